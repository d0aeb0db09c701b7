package mtl

import (
	"fmt"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/tensor"
)

// MultiMNISTNet is the conv encoder of Sener & Koltun's MultiMNIST
// experiments (MultiLeNetR: conv 1->10 5x5, pool, conv 10->20 5x5, pool,
// FC 320->50; heads 50->50->10).
var MultiMNISTNet = ConvNetConfig{Channels: 1, Height: 28, Width: 28, Blocks: []int{10, 20}, Kernel: 5, Hidden: 50}

// MultiMNISTBatch is the minibatch size MultiMNIST runs use by default.
const MultiMNISTBatch = 64

// MultiMNISTExperiment builds the MultiMNIST problem of Sener & Koltun,
// "Multi-Task Learning as Multi-Objective Optimization" (NeurIPS 2018):
// two MNIST digits on a 36x36 canvas, the second shifted by (6,6), shrunk
// to 28x28 (data.MakeMultiMNIST); task "left" classifies the top-left
// digit, "right" the bottom-right one. nTrain examples are composed from
// the MNIST training images (seed), nTest from the t10k images (seed+1);
// pixels are normalised with MNIST's mean 0.1307 and sd 0.3081, as the
// reference code. Metrics are test accuracies. The image geometry is set,
// so BuildModel's "hard" is the LeNet network (MultiMNISTNet) and "mtan"
// the MTAN on the same encoder; runs use minibatches of MultiMNISTBatch
// unless configured otherwise.
func MultiMNISTExperiment(mnistDir string, nTrain, nTest int, seed uint64) (*Experiment, error) {
	if nTrain < 1 || nTest < 1 {
		return nil, fmt.Errorf("mtl: MultiMNIST needs positive train and test sizes, got %d and %d", nTrain, nTest)
	}
	trI, trL, err := data.LoadMNIST(mnistDir, "train")
	if err != nil {
		return nil, err
	}
	teI, teL, err := data.LoadMNIST(mnistDir, "t10k")
	if err != nil {
		return nil, err
	}
	build := func(images *tensor.Tensor, labels []int, n int, s uint64) Dataset {
		x, left, right := data.MakeMultiMNIST(images, labels, n, s)
		px := x.F32()
		for i, v := range px {
			px[i] = (v - 0.1307) / 0.3081
		}
		y := tensor.New(tensor.Float32, n, 2)
		for i := range n {
			y.Set(float64(left[i]), i, 0)
			y.Set(float64(right[i]), i, 1)
		}
		return Dataset{X: tensor.Reshape(x, n, 28*28), Y: y}
	}
	net := MultiMNISTNet
	e := &Experiment{
		Name:      fmt.Sprintf("multimnist(%d train, %d test)", nTrain, nTest),
		Tasks:     []TaskSpec{{Name: "left", Kind: Classification, Classes: 10}, {Name: "right", Kind: Classification, Classes: 10}},
		Train:     build(trI, trL, nTrain, seed),
		Test:      build(teI, teL, nTest, seed+1),
		Features:  28 * 28,
		Image:     &net,
		BatchSize: MultiMNISTBatch,
	}
	return e, nil
}
