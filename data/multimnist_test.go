package data

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// blobDigits returns n 28x28 images with a 20x20 ink square in the centre
// (rows and columns 4..23, where MNIST digits live) for the images whose
// ink[i] is true, blank otherwise.
func blobDigits(ink []bool) *tensor.Tensor {
	x := tensor.New(tensor.Float32, len(ink), 1, 28, 28)
	px := x.F32()
	for i, on := range ink {
		if !on {
			continue
		}
		for y := 4; y < 24; y++ {
			for xx := 4; xx < 24; xx++ {
				px[i*784+y*28+xx] = 1
			}
		}
	}
	return x
}

// inkStats returns the ink in the top-left and bottom-right 14x14
// quadrants of a 28x28 image and the ink's centroid (row, column).
func inkStats(img []float32) (tl, br, cy, cx float64) {
	total := 0.0
	for y := range 28 {
		for x := range 28 {
			v := float64(img[y*28+x])
			total += v
			cy += v * (float64(y) + 0.5)
			cx += v * (float64(x) + 0.5)
			if y < 14 && x < 14 {
				tl += v
			}
			if y >= 14 && x >= 14 {
				br += v
			}
		}
	}
	return tl, br, cy / total, cx / total
}

func TestMakeMultiMNISTShapesAndLabels(t *testing.T) {
	images := blobDigits([]bool{true, true, true, true, true})
	labels := []int{10, 11, 12, 13, 14}
	tests := []struct {
		name string
		n    int
	}{
		{"none", 0},
		{"fewer than N", 3},
		{"exactly N", 5},
		{"more than N", 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, left, right := MakeMultiMNIST(images, labels, tc.n, 1)
			if s := x.Shape(); len(s) != 4 || s[0] != tc.n || s[1] != 1 || s[2] != 28 || s[3] != 28 || x.DType() != tensor.Float32 {
				t.Fatalf("x %v %v", x.DType(), s)
			}
			if len(left) != tc.n || len(right) != tc.n {
				t.Fatalf("%d left and %d right labels", len(left), len(right))
			}
			count := map[int]int{}
			for i := range left {
				if left[i] < 10 || left[i] > 14 || right[i] < 10 || right[i] > 14 {
					t.Fatalf("example %d labels %d %d out of range", i, left[i], right[i])
				}
				if left[i] == right[i] {
					t.Fatalf("example %d uses image %d twice", i, left[i])
				}
				count[left[i]]++
			}
			// Left images cycle through permutations: counts differ by <= 1.
			for _, l := range labels {
				if c := count[l]; c < tc.n/5 || c > (tc.n+4)/5 {
					t.Fatalf("left label counts %v for n = %d", count, tc.n)
				}
			}
			for _, v := range x.F32() {
				if v < 0 || v > 1 {
					t.Fatalf("pixel %v outside [0, 1]", v)
				}
			}
		})
	}
}

func TestMakeMultiMNISTGeometry(t *testing.T) {
	// Two all-ink images: the left one covers canvas 0..27, the right one
	// 6..33, so in the 28x28 result (1 pixel = 36/28 canvas pixels) the
	// top-left and centre are ink and the other three corners are blank.
	images := tensor.Full(tensor.Float32, 1, 2, 1, 28, 28)
	x, _, _ := MakeMultiMNIST(images, []int{0, 1}, 1, 3)
	px := x.F32()
	for _, c := range []struct {
		y, x int
		want float32
	}{{0, 0, 1}, {14, 14, 1}, {27, 27, 0}, {0, 27, 0}, {27, 0, 0}, {25, 25, 1}} {
		if got := px[c.y*28+c.x]; got != c.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", c.y, c.x, got, c.want)
		}
	}
	// Partly covered edge pixel: output column 21 spans canvas columns
	// 27..28.29, of which 27 belongs to the left digit only; row 0 has no
	// right digit, so the pixel is 1/(36/28) = 0.777...
	if got, want := px[21], float32(28.0/36); got < want-1e-6 || got > want+1e-6 {
		t.Errorf("pixel (0,21) = %v, want %v", got, want)
	}
}

func TestMakeMultiMNISTLeftInkTopLeft(t *testing.T) {
	// Image 0 is a blob, image 1 blank: each example is (blob, blank) or
	// (blank, blob), so the blob's position tells where each side goes.
	// The left digit is 4 canvas pixels off the canvas centre, the right
	// one only 2 (it spans 6..33 of 0..35), hence the weaker bound.
	images := blobDigits([]bool{true, false})
	x, left, right := MakeMultiMNIST(images, []int{0, 1}, 20, 7)
	seen := [2]bool{}
	for i := range left {
		tl, br, cy, cx := inkStats(x.F32()[i*784 : (i+1)*784])
		if left[i] == 0 {
			seen[0] = true
			if tl < 3*br || cy >= 14 || cx >= 14 {
				t.Errorf("example %d, left digit: top-left ink %.1f, bottom-right %.1f, centroid (%.1f, %.1f)", i, tl, br, cy, cx)
			}
		} else {
			seen[1] = true
			if right[i] != 0 || br < 1.5*tl || cy <= 14 || cx <= 14 {
				t.Errorf("example %d, right digit: top-left ink %.1f, bottom-right %.1f, centroid (%.1f, %.1f)", i, tl, br, cy, cx)
			}
		}
	}
	if !seen[0] || !seen[1] {
		t.Fatalf("left labels %v: want both orders", left)
	}
}

func TestMakeMultiMNISTDeterministic(t *testing.T) {
	images := blobDigits([]bool{true, false, true, true, false, true})
	px := images.F32()
	for i := range px {
		px[i] *= float32(i%7) / 6 // make the images differ
	}
	labels := []int{0, 1, 2, 3, 4, 5}
	x1, l1, r1 := MakeMultiMNIST(images, labels, 30, 42)
	x2, l2, r2 := MakeMultiMNIST(images, labels, 30, 42)
	x3, l3, r3 := MakeMultiMNIST(images, labels, 30, 43)
	if !slices.Equal(x1.F32(), x2.F32()) || !slices.Equal(l1, l2) || !slices.Equal(r1, r2) {
		t.Fatal("same seed, different output")
	}
	if slices.Equal(x1.F32(), x3.F32()) && slices.Equal(l1, l3) && slices.Equal(r1, r3) {
		t.Fatal("different seeds, same output")
	}
}

func TestMakeMultiMNISTPanics(t *testing.T) {
	ok := tensor.New(tensor.Float32, 2, 1, 28, 28)
	tests := []struct {
		name   string
		images *tensor.Tensor
		labels []int
		n      int
		want   string
	}{
		{"wrong size", tensor.New(tensor.Float32, 2, 1, 27, 28), []int{0, 1}, 1, "want float32 [N, 1, 28, 28]"},
		{"no channel", tensor.New(tensor.Float32, 2, 28, 28), []int{0, 1}, 1, "want float32"},
		{"float64", tensor.New(tensor.Float64, 2, 1, 28, 28), []int{0, 1}, 1, "want float32"},
		{"no images", tensor.New(tensor.Float32, 0, 1, 28, 28), nil, 1, "N >= 1"},
		{"label count", ok, []int{0}, 1, "1 labels for 2 images"},
		{"negative n", ok, []int{0, 1}, -1, "n = -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Fatalf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			MakeMultiMNIST(tc.images, tc.labels, tc.n, 0)
		})
	}
}

func TestMultiMNISTReal(t *testing.T) {
	dir := filepath.Dir(sharedDataPath(t, "mnist/t10k-images-idx3-ubyte.gz"))
	all, labels, err := LoadMNIST(dir, "t10k")
	if err != nil {
		t.Fatal(err)
	}
	// 50 real digits and 50 blank images (label -1): the examples whose
	// right image is blank show where the left digit lands.
	const k = 50
	images := tensor.New(tensor.Float32, 2*k, 1, 28, 28)
	copy(images.F32(), all.F32()[:k*784])
	lab := append(slices.Clone(labels[:k]), slices.Repeat([]int{-1}, k)...)
	x, left, right := MakeMultiMNIST(images, lab, 2*k, 5)
	var tl, br float64
	found := 0
	for i := range left {
		if left[i] < 0 || right[i] >= 0 {
			continue
		}
		found++
		a, b, cy, cx := inkStats(x.F32()[i*784 : (i+1)*784])
		tl, br = tl+a, br+b
		if cy >= 14 || cx >= 14 {
			t.Errorf("example %d (left digit %d alone): ink centroid (%.1f, %.1f), want in the top-left", i, left[i], cy, cx)
		}
	}
	if found < 10 || tl < 3*br {
		t.Fatalf("%d left-only examples: top-left ink %.1f, bottom-right %.1f", found, tl, br)
	}
}
