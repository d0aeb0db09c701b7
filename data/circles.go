package data

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/tensor"
)

// Circle is a binary classification task on the unit square: a point is
// labelled 1 when it lies outside the circle of radius R centred at (CX, CY).
type Circle struct {
	CX, CY, R float64
}

// SeedCircle is the task of the seed example: radius 0.5 centred at (0.5, 0.5).
var SeedCircle = Circle{CX: 0.5, CY: 0.5, R: 0.5}

// Sample draws n points uniform in [0,1)^2 and their labels, as float32
// tensors X [n,2] and Y [n,1].
func (c Circle) Sample(rng *rand.Rand, n int) (x, y *tensor.Tensor) {
	if n < 0 {
		panic(fmt.Sprintf("data: Circle.Sample: negative count %d", n))
	}
	x = tensor.New(tensor.Float32, n, 2)
	y = tensor.New(tensor.Float32, n, 1)
	xs, ys := x.F32(), y.F32()
	for i := 0; i < n; i++ {
		px, py := rng.Float64(), rng.Float64()
		xs[2*i], xs[2*i+1] = float32(px), float32(py)
		dx, dy := px-c.CX, py-c.CY
		if dx*dx+dy*dy > c.R*c.R {
			ys[i] = 1
		}
	}
	return x, y
}

// Split returns the first frac of the rows as the training part and the
// rest as the test part (the data are already in random order).
func Split(x, y *tensor.Tensor, frac float64) (xTrain, yTrain, xTest, yTest *tensor.Tensor) {
	n := x.Dim(0)
	k := int(float64(n)*frac + 0.5)
	return tensor.Slice(x, 0, 0, k), tensor.Slice(y, 0, 0, k), tensor.Slice(x, 0, k, n), tensor.Slice(y, 0, k, n)
}
