package mtl

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/metalearn/metalearn/autodiff"
	"github.com/metalearn/metalearn/nn"
)

// ConvNetConfig describes the LeNet-style conv encoder shared by the image
// architectures (HardSharing via NewLeNetHard, and MTAN): blocks of
// conv(Kernel, no padding) + ReLU + 2x2 max-pooling, then a fully connected
// layer to Hidden units with ReLU, and per task a head
// Linear(Hidden, Hidden), ReLU, Linear(Hidden, outputs). With the defaults
// of Sener & Koltun's MultiMNIST network (1x28x28 input, blocks of 10 and
// 20 channels, kernel 5, 50 hidden units) the encoder is their MultiLeNetR
// and the heads their MultiLeNetO (without dropout).
type ConvNetConfig struct {
	Channels, Height, Width int   // input image; rows of X hold C*H*W values
	Blocks                  []int // output channels of each conv block
	Kernel                  int
	Hidden                  int
}

// sizes returns the spatial size after each block's convolution (before
// pooling) and the flattened size after the last pooling.
func (c ConvNetConfig) sizes() (conv [][2]int, flat int, err error) {
	if c.Channels < 1 || c.Height < 1 || c.Width < 1 || len(c.Blocks) == 0 || c.Kernel < 1 || c.Hidden < 1 {
		return nil, 0, fmt.Errorf("mtl: conv net needs a positive image shape, blocks, kernel and hidden units, got %+v", c)
	}
	h, w := c.Height, c.Width
	for j, ch := range c.Blocks {
		if ch < 1 {
			return nil, 0, fmt.Errorf("mtl: conv block %d has %d channels", j, ch)
		}
		h, w = h-c.Kernel+1, w-c.Kernel+1
		if h < 2 || w < 2 {
			return nil, 0, fmt.Errorf("mtl: conv block %d: a %dx%d input is too small for kernel %d and pooling", j, h+c.Kernel-1, w+c.Kernel-1, c.Kernel)
		}
		conv = append(conv, [2]int{h, w})
		h, w = h/2, w/2
	}
	return conv, c.Blocks[len(c.Blocks)-1] * h * w, nil
}

// imageModule reshapes rows [N, C*H*W] to images [N, C, H, W].
func imageModule(c, h, w int) nn.Module {
	return &nn.Func{Name: "Image", F: func(x *autodiff.Var) *autodiff.Var {
		if len(x.Shape()) == 4 {
			return x
		}
		return autodiff.Reshape(x, x.Shape()[0], c, h, w)
	}}
}

func convHead(rng *rand.Rand, hidden, out int) nn.Module {
	return nn.NewSequential(nn.NewLinear(rng, hidden, hidden), nn.ReLU(), nn.NewLinear(rng, hidden, out))
}

// NewLeNetHard builds hard parameter sharing with the conv encoder of cfg
// (the MultiMNIST baseline of Sener & Koltun 2018) and one head per entry
// of outs.
func NewLeNetHard(rng *rand.Rand, cfg ConvNetConfig, outs []int) (*HardSharing, error) {
	_, flat, err := cfg.sizes()
	if err != nil {
		return nil, err
	}
	layers := []nn.Module{imageModule(cfg.Channels, cfg.Height, cfg.Width)}
	in := cfg.Channels
	for _, ch := range cfg.Blocks {
		layers = append(layers, nn.NewConv2d(rng, in, ch, cfg.Kernel, 1, 0), nn.ReLU(), nn.MaxPool2d(2, 2, 0))
		in = ch
	}
	layers = append(layers, nn.Flatten(), nn.NewLinear(rng, flat, cfg.Hidden), nn.ReLU())
	h := &HardSharing{Encoder: nn.NewSequential(layers...)}
	for _, o := range outs {
		h.Heads = append(h.Heads, convHead(rng, cfg.Hidden, o))
	}
	return h, nil
}

// MTAN is the multi-task attention network of Liu, Johns & Davison,
// "End-to-End Multi-Task Learning with Attention" (CVPR 2019, section 3),
// on a conv encoder. A shared trunk of conv blocks (ConvNetConfig) is
// computed once; every task t owns one soft-attention module per block
// that selects features from the shared ones:
//
//	â_t^(j) = a_t^(j) ⊙ p^(j)                                  (eq. 1)
//	a_t^(1) = h_t^(1)(g_t^(1)(u^(1)))
//	a_t^(j) = h_t^(j)(g_t^(j)([u^(j); f^(j)(â_t^(j-1))]))  j > 1   (eq. 2)
//
// where u^(j) is the output of the first layer of shared block j and p^(j)
// the output of its last layer (one conv layer per block here, so u = p =
// ReLU(conv_j(·))), [;] is channel concatenation, g and h are the paper's
// 1x1 conv + BN + ReLU and 1x1 conv + BN + sigmoid (Figure 2; the mask a
// lies in (0,1) elementwise), and f^(j) is the shared feature extractor
// that brings the previous attended features to block j's resolution
// (2x2 max-pooling then the block's k x k conv with BN and ReLU; the paper
// uses a 3x3 conv with pooling, ours mirrors the trunk's unpadded conv so
// the sizes match). The attended output of the last block is pooled and
// goes through the shared fully connected layer, then the task's head.
//
// Shared() lists the trunk (convs, FC) and the f^(j) extractors; Specific(t)
// lists task t's attention modules and head. Rows of X hold flattened
// images (C*H*W values).
type MTAN struct {
	Config ConvNetConfig
	Convs  []*nn.Conv2d     // shared trunk, one per block
	FC     *nn.Linear       // shared, flattened last block -> Hidden
	Bridge []*nn.Sequential // shared f^(j+1): pool, conv, BN, ReLU (len(Blocks)-1)
	Att    [][]*nn.Sequential
	Heads  []nn.Module
}

// NewMTAN builds an MTAN on the conv encoder of cfg with one task per
// entry of outs.
func NewMTAN(rng *rand.Rand, cfg ConvNetConfig, outs []int) (*MTAN, error) {
	_, flat, err := cfg.sizes()
	if err != nil {
		return nil, err
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("mtl: MTAN needs at least one task")
	}
	m := &MTAN{Config: cfg}
	in := cfg.Channels
	for j, ch := range cfg.Blocks {
		m.Convs = append(m.Convs, nn.NewConv2d(rng, in, ch, cfg.Kernel, 1, 0))
		if j > 0 {
			br := nn.NewSequential(nn.MaxPool2d(2, 2, 0))
			br.AppendBlock(nn.NewConvBlock(rng, in, ch, cfg.Kernel, 1, 0, false))
			m.Bridge = append(m.Bridge, br)
		}
		in = ch
	}
	m.FC = nn.NewLinear(rng, flat, cfg.Hidden)
	for _, o := range outs {
		var att []*nn.Sequential
		for j, ch := range cfg.Blocks {
			cin := ch
			if j > 0 {
				cin = 2 * ch
			}
			a := nn.NewSequential()
			a.AppendBlock(nn.NewConvBlock(rng, cin, ch, 1, 1, 0, false))
			a.Append(nn.NewConv2d(rng, ch, ch, 1, 1, 0), nn.NewBatchNorm(ch), nn.Sigmoid())
			att = append(att, a)
		}
		m.Att = append(m.Att, att)
		m.Heads = append(m.Heads, convHead(rng, cfg.Hidden, o))
	}
	return m, nil
}

// NumTasks implements Model.
func (m *MTAN) NumTasks() int { return len(m.Heads) }

// Shared implements Model: trunk convs, the FC layer and the f^(j).
func (m *MTAN) Shared() []nn.Param {
	var ps []nn.Param
	for j, c := range m.Convs {
		ps = append(ps, nn.Prefixed("conv"+strconv.Itoa(j), c.Params())...)
	}
	ps = append(ps, nn.Prefixed("fc", m.FC.Params())...)
	for j, b := range m.Bridge {
		ps = append(ps, nn.Prefixed("bridge"+strconv.Itoa(j+1), b.Params())...)
	}
	return ps
}

// Specific implements Model: task t's attention modules and head.
func (m *MTAN) Specific(t int) []nn.Param {
	var ps []nn.Param
	for j, a := range m.Att[t] {
		ps = append(ps, nn.Prefixed("att"+strconv.Itoa(j), a.Params())...)
	}
	return append(ps, nn.Prefixed("head", m.Heads[t].Params())...)
}

// Buffers lists the BatchNorm running statistics, named as AllParams
// names parameters ("shared.bridge1.2.running_mean", "task0.att0.1.running_var").
func (m *MTAN) Buffers() []nn.Buffer {
	var bs []nn.Buffer
	add := func(prefix string, mod nn.Module) {
		for _, b := range nn.Buffers(mod) {
			bs = append(bs, nn.Buffer{Name: prefix + "." + b.Name, V: b.V})
		}
	}
	for j, b := range m.Bridge {
		add("shared.bridge"+strconv.Itoa(j+1), b)
	}
	for t, att := range m.Att {
		for j, a := range att {
			add("task"+strconv.Itoa(t)+".att"+strconv.Itoa(j), a)
		}
	}
	return bs
}

// SetTraining switches the BatchNorm layers between batch statistics
// (training) and running statistics (evaluation).
func (m *MTAN) SetTraining(training bool) {
	for _, b := range m.Bridge {
		b.SetTraining(training)
	}
	for _, att := range m.Att {
		for _, a := range att {
			a.SetTraining(training)
		}
	}
}

// Forward implements Model.
func (m *MTAN) Forward(x *autodiff.Var) []*autodiff.Var {
	return m.forwardWith(vars(m.params()), x, -1)
}

// ForwardTask computes task t's output only.
func (m *MTAN) ForwardTask(x *autodiff.Var, t int) *autodiff.Var {
	return m.forwardWith(vars(m.params()), x, t)[0]
}

// params lists Shared() then Specific(0..T-1), the order forwardWith reads.
func (m *MTAN) params() []nn.Param {
	ps := m.Shared()
	for t := range m.Heads {
		ps = append(ps, m.Specific(t)...)
	}
	return ps
}

// forwardWith runs the network with explicit weights w (in params()
// order): all tasks when only < 0, else task only alone.
func (m *MTAN) forwardWith(w []*autodiff.Var, x *autodiff.Var, only int) []*autodiff.Var {
	take := func(mod nn.Module) []*autodiff.Var {
		n := len(mod.Params())
		ws := w[:n]
		w = w[n:]
		return ws
	}
	cfg := m.Config
	if len(x.Shape()) != 4 {
		x = autodiff.Reshape(x, x.Shape()[0], cfg.Channels, cfg.Height, cfg.Width)
	}
	// shared trunk: p[j] = ReLU(conv_j(in_j)), in_{j+1} = pool(p[j])
	p := make([]*autodiff.Var, len(m.Convs))
	h := x
	for j, c := range m.Convs {
		p[j] = autodiff.Relu(c.Apply(take(c), h))
		h = autodiff.MaxPool2d(p[j], 2, 2, 0)
	}
	fcW := take(m.FC)
	bridgeW := make([][]*autodiff.Var, len(m.Bridge))
	for j, b := range m.Bridge {
		bridgeW[j] = take(b)
	}
	var outs []*autodiff.Var
	for t := range m.Heads {
		attW := make([][]*autodiff.Var, len(m.Att[t]))
		for j, a := range m.Att[t] {
			attW[j] = take(a)
		}
		headW := take(m.Heads[t])
		if only >= 0 && t != only {
			continue
		}
		var hat *autodiff.Var // â_t^(j)
		for j := range m.Convs {
			in := p[j] // u^(j)
			if j > 0 {
				in = autodiff.Concat(1, p[j], m.Bridge[j-1].Apply(bridgeW[j-1], hat))
			}
			a := m.Att[t][j].Apply(attW[j], in)
			hat = autodiff.Mul(a, p[j])
		}
		z := autodiff.Flatten(autodiff.MaxPool2d(hat, 2, 2, 0))
		z = autodiff.Relu(m.FC.Apply(fcW, z))
		outs = append(outs, m.Heads[t].Apply(headW, z))
	}
	return outs
}
