package data

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/tensor"
)

// MultiMNIST geometry, following the reference code of Sener & Koltun,
// "Multi-Task Learning as Multi-Objective Optimization" (NeurIPS 2018),
// multi_task/loaders/multi_mnist_loader.py: on a 36x36 canvas the left
// digit covers rows and columns 0..27, the right digit 6..33, overlapping
// pixels take the maximum, and the canvas is shrunk to 28x28.
const (
	multiMNISTCanvas = 36
	multiMNISTShift  = 6
)

// MakeMultiMNIST builds n MultiMNIST examples from single-digit images
// ([N, 1, 28, 28] float32, e.g. from LoadMNIST) and their labels, as in
// Sener & Koltun 2018: each example overlays a "left" digit placed at the
// top-left of a 36x36 canvas (offset 0,0) and a "right" digit placed at
// the bottom-right (offset 6,6), combined by pixel-wise maximum, then
// resized to 28x28 by area averaging (ResizeArea; the reference code used
// nearest-neighbour resizing). The two tasks are to classify the left and
// the right digit: left[i] and right[i] are the labels of example i.
//
// The left images run through a random permutation of all N images (a new
// permutation after every N examples), so with n = N every image is a left
// digit exactly once, as in the reference; each right image is drawn
// uniformly from the other N-1 images. The same seed gives the same
// output.
//
// It panics if images is not [N, 1, 28, 28] float32 with N >= 1, if
// len(labels) != N or if n < 0: those are programming errors.
func MakeMultiMNIST(images *tensor.Tensor, labels []int, n int, seed uint64) (x *tensor.Tensor, left, right []int) {
	const side = 28
	sh := images.Shape()
	if images.DType() != tensor.Float32 || len(sh) != 4 || sh[0] < 1 || sh[1] != 1 || sh[2] != side || sh[3] != side {
		panic(fmt.Sprintf("data: MakeMultiMNIST: images are %v %v, want float32 [N, 1, 28, 28] with N >= 1", images.DType(), sh))
	}
	num := sh[0]
	if len(labels) != num {
		panic(fmt.Sprintf("data: MakeMultiMNIST: %d labels for %d images", len(labels), num))
	}
	if n < 0 {
		panic(fmt.Sprintf("data: MakeMultiMNIST: n = %d < 0", n))
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d6d6e697374)) // "mmnist"
	src := images.F32()
	x = tensor.New(tensor.Float32, n, 1, side, side)
	dst := x.F32()
	left, right = make([]int, n), make([]int, n)
	const c = multiMNISTCanvas
	canvas := make([]float64, c*c)
	var perm []int
	for i := range n {
		if i%num == 0 {
			perm = rng.Perm(num)
		}
		a := perm[i%num]
		b := a
		if num > 1 {
			b = rng.IntN(num - 1)
			if b >= a {
				b++
			}
		}
		left[i], right[i] = labels[a], labels[b]
		clear(canvas)
		la, lb := src[a*side*side:(a+1)*side*side], src[b*side*side:(b+1)*side*side]
		for y := range side {
			for xx := range side {
				canvas[y*c+xx] = float64(la[y*side+xx])
			}
		}
		for y := range side {
			row := canvas[(y+multiMNISTShift)*c+multiMNISTShift:]
			for xx := range side {
				row[xx] = max(row[xx], float64(lb[y*side+xx]))
			}
		}
		copy(dst[i*side*side:(i+1)*side*side], ResizeArea(canvas, c, c, side, side))
	}
	return x, left, right
}
