package nn

import "math/rand/v2"

// Conv4 returns the standard few-shot embedding network (Vinyals et al.
// 2016; Snell et al. 2017; Finn et al. 2017): four blocks of 3x3 convolution
// with `hidden` filters (padding 1), BatchNorm, ReLU and 2x2 max-pooling,
// followed by Flatten. On 28x28 inputs it yields hidden features.
func Conv4(rng *rand.Rand, in, hidden int) *Sequential {
	var layers []Module
	c := in
	for i := 0; i < 4; i++ {
		layers = append(layers, NewConv2d(rng, c, hidden, 3, 1, 1), NewBatchNorm(hidden), ReLU(), MaxPool2d(2, 2, 0))
		c = hidden
	}
	layers = append(layers, Flatten())
	return NewSequential(layers...)
}

// Conv4Strided returns the Omniglot network of the MAML authors' code
// (Finn et al. 2017, section 5.2: strided convolutions instead of
// max-pooling; the Reptile code uses the same blocks): four blocks of 3x3
// convolution with stride 2 (padding 1), BatchNorm and ReLU, then the mean
// over the remaining positions. On 28x28 inputs (28 -> 14 -> 7 -> 4 -> 2)
// it yields hidden features with about a quarter of Conv4's arithmetic.
func Conv4Strided(rng *rand.Rand, in, hidden int) *Sequential {
	var layers []Module
	c := in
	for i := 0; i < 4; i++ {
		layers = append(layers, NewConv2d(rng, c, hidden, 3, 2, 1), NewBatchNorm(hidden), ReLU())
		c = hidden
	}
	layers = append(layers, GlobalAvgPool())
	return NewSequential(layers...)
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
