package nn

import "math/rand/v2"

// Conv4 returns the standard few-shot embedding network (Vinyals et al.
// 2016; Snell et al. 2017; Finn et al. 2017): four blocks of 3x3 convolution
// with `hidden` filters (padding 1), BatchNorm, ReLU and 2x2 max-pooling,
// followed by Flatten; each block is a fused ConvBlock. On 28x28 inputs it
// yields hidden features.
func Conv4(rng *rand.Rand, in, hidden int) *Sequential {
	s := NewSequential()
	c := in
	for i := 0; i < 4; i++ {
		s.AppendBlock(NewConvBlock(rng, c, hidden, 3, 1, 1, true))
		c = hidden
	}
	s.Append(Flatten())
	return s
}

// Conv4Strided returns the Omniglot network of the MAML authors' code
// (Finn et al. 2017, section 5.2: strided convolutions instead of
// max-pooling; the Reptile code uses the same blocks): four blocks of 3x3
// convolution with stride 2 (padding 1), BatchNorm and ReLU, then the mean
// over the remaining positions. On 28x28 inputs (28 -> 14 -> 7 -> 4 -> 2)
// it yields hidden features with about a quarter of Conv4's arithmetic.
func Conv4Strided(rng *rand.Rand, in, hidden int) *Sequential {
	s := NewSequential()
	c := in
	for i := 0; i < 4; i++ {
		s.AppendBlock(NewConvBlock(rng, c, hidden, 3, 2, 1, false))
		c = hidden
	}
	s.Append(GlobalAvgPool())
	return s
}

// MLP returns Linear layers of the given sizes with act between them (not
// after the last), e.g. MLP(rng, ReLU, 1, 40, 40, 1) is the sinusoid network
// of the MAML paper.
func MLP(rng *rand.Rand, act func() Module, sizes ...int) *Sequential {
	var layers []Module
	for i := 0; i+1 < len(sizes); i++ {
		if i > 0 {
			layers = append(layers, act())
		}
		layers = append(layers, NewLinear(rng, sizes[i], sizes[i+1]))
	}
	return NewSequential(layers...)
}
