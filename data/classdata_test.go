package data

import (
	"reflect"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// toyDataset returns classes of per[c] images of size h x w; every pixel of
// image i is i*1000 + y*w + x, so values identify image and position.
func toyDataset(h, w int, per ...int) *ClassDataset {
	n := 0
	for _, p := range per {
		n += p
	}
	img := tensor.New(tensor.Float32, n, 1, h, w)
	v := img.F32()
	for i := 0; i < n; i++ {
		for k := 0; k < h*w; k++ {
			v[i*h*w+k] = float32(i*1000 + k)
		}
	}
	ds := &ClassDataset{Images: img}
	i := 0
	for c, p := range per {
		var idx []int
		for j := 0; j < p; j++ {
			idx = append(idx, i)
			i++
		}
		ds.ByClass = append(ds.ByClass, idx)
		ds.ClassNames = append(ds.ClassNames, "A/character"+string(rune('a'+c)))
	}
	return ds
}

func TestClassDatasetValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(d *ClassDataset)
		want   string
	}{
		{"ok", func(d *ClassDataset) {}, ""},
		{"nil images", func(d *ClassDataset) { d.Images = nil }, "no Images"},
		{"3-d images", func(d *ClassDataset) { d.Images = tensor.New(tensor.Float32, 4, 2, 2) }, "want [N, C, H, W]"},
		{"names mismatch", func(d *ClassDataset) { d.ClassNames = d.ClassNames[:1] }, "2 classes in ByClass but 1 ClassNames"},
		{"no classes", func(d *ClassDataset) { d.ByClass, d.ClassNames = nil, nil }, "no classes"},
		{"empty class", func(d *ClassDataset) { d.ByClass[1] = nil }, `class 1 ("A/characterb") has no examples`},
		{"index out of range", func(d *ClassDataset) { d.ByClass[0][1] = 9 }, "image 9, outside [0, 4)"},
		{"negative index", func(d *ClassDataset) { d.ByClass[0][0] = -1 }, "image -1"},
		{"repeat", func(d *ClassDataset) { d.ByClass[1][0] = 3 }, "lists image 3 twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := toyDataset(2, 2, 2, 2)
			tc.mutate(d)
			err := d.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	var nilDS *ClassDataset
	if nilDS.Validate() == nil {
		t.Fatal("nil dataset validated")
	}
}

func TestSubsetAndConcat(t *testing.T) {
	d := toyDataset(2, 2, 2, 3, 1)
	s := d.Subset([]int{2, 0})
	if s.NumClasses() != 2 || s.ClassNames[0] != "A/characterc" || !reflect.DeepEqual(s.ByClass, [][]int{{5}, {0, 1}}) {
		t.Fatalf("subset %v %v", s.ClassNames, s.ByClass)
	}
	if s.Images != d.Images {
		t.Fatal("Subset copied the images")
	}
	s.ByClass[0][0] = 4
	if d.ByClass[2][0] != 5 {
		t.Fatal("Subset shares ByClass slices with its parent")
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "class 3 out of range") {
				t.Fatalf("panic %v", r)
			}
		}()
		d.Subset([]int{3})
	}()

	c, err := ConcatClassDatasets(d.Subset([]int{1}), toyDataset(2, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.NumClasses() != 2 || c.Images.Dim(0) != 8 || !reflect.DeepEqual(c.ByClass, [][]int{{2, 3, 4}, {6, 7}}) {
		t.Fatalf("concat %v %v", c.Images.Shape(), c.ByClass)
	}
	if c.Images.At(7, 0, 0, 1) != 1001 {
		t.Fatalf("concat image 7 pixel 1 = %v, want 1001", c.Images.At(7, 0, 0, 1))
	}
	errTests := []struct {
		name string
		a, b *ClassDataset
		want string
	}{
		{"shape", toyDataset(2, 2, 1), toyDataset(3, 3, 1), "image shapes [1 2 2] and [1 3 3] differ"},
		{"dtype", toyDataset(2, 2, 1), &ClassDataset{Images: tensor.New(tensor.Float64, 1, 1, 2, 2), ByClass: [][]int{{0}}, ClassNames: []string{"x"}}, "dtypes"},
		{"invalid", &ClassDataset{}, toyDataset(2, 2, 1), "first dataset"},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ConcatClassDatasets(tc.a, tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestWithRotations(t *testing.T) {
	// One class, one 3x3 image with pixel values 0..8:
	//   0 1 2
	//   3 4 5
	//   6 7 8
	d := toyDataset(3, 3, 1)
	r := d.WithRotations()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"A/charactera", "A/charactera/rot090", "A/charactera/rot180", "A/charactera/rot270"}
	if !reflect.DeepEqual(r.ClassNames, wantNames) {
		t.Fatalf("names %v", r.ClassNames)
	}
	want := map[int][]float32{ // counter-clockwise, as numpy.rot90
		0:   {0, 1, 2, 3, 4, 5, 6, 7, 8},
		90:  {2, 5, 8, 1, 4, 7, 0, 3, 6},
		180: {8, 7, 6, 5, 4, 3, 2, 1, 0},
		270: {6, 3, 0, 7, 4, 1, 8, 5, 2},
	}
	for k, deg := range []int{0, 90, 180, 270} {
		i := r.ByClass[k][0]
		got := r.Images.F32()[i*9 : i*9+9]
		if !reflect.DeepEqual(got, want[deg]) {
			t.Errorf("rotation %d: %v, want %v", deg, got, want[deg])
		}
	}

	// Several classes: class k*n+c is class c rotated 90k.
	d2 := toyDataset(2, 2, 2, 1)
	r2 := d2.WithRotations()
	if r2.NumClasses() != 8 || r2.NumImages() != 12 || r2.ClassNames[3] != "A/characterb/rot090" {
		t.Fatalf("got %d classes %d images, names %v", r2.NumClasses(), r2.NumImages(), r2.ClassNames)
	}
	// Class 5 = class 1 (image 2: 2000 2001 / 2002 2003) rotated 180.
	i := r2.ByClass[5][0]
	if got := r2.Images.F32()[i*4 : i*4+4]; !reflect.DeepEqual(got, []float32{2003, 2002, 2001, 2000}) {
		t.Fatalf("class 5 image %v", got)
	}

	rectangular := toyDataset(2, 3, 1)
	if _, err := rectangular.Rotate([]int{90}, true); err == nil || !strings.Contains(err.Error(), "square") {
		t.Fatalf("rotating 2x3 by 90: %v", err)
	}
	if r, err := rectangular.Rotate([]int{0, 180}, false); err != nil || r.ClassNames[0] != "A/charactera/rot000" {
		t.Fatalf("rotating 2x3 by 180: %v", err)
	}
	if _, err := d.Rotate([]int{45}, true); err == nil || !strings.Contains(err.Error(), "45") {
		t.Fatalf("45 degrees: %v", err)
	}
}

func TestResizeArea(t *testing.T) {
	tests := []struct {
		name         string
		src          []float64
		h, w, oh, ow int
		want         []float32
	}{
		{"identity", []float64{1, 2, 3, 4}, 2, 2, 2, 2, []float32{1, 2, 3, 4}},
		{"2x2 boxes", []float64{1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 8, 8, 0, 0, 8, 8}, 4, 4, 2, 2, []float32{2.5, 0, 0, 8}},
		// 3 -> 2: output 0 covers [0, 1.5): 2/3 of pixel 0, 1/3 of pixel 1.
		{"fractional 1-D", []float64{3, 6, 9}, 1, 3, 1, 2, []float32{4, 8}},
		{"upsample", []float64{1, 3}, 1, 2, 1, 4, []float32{1, 1, 3, 3}},
		{"to one pixel", []float64{1, 2, 3, 4, 5, 6}, 2, 3, 1, 1, []float32{3.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ResizeArea(tc.src, tc.h, tc.w, tc.oh, tc.ow)
			for i := range tc.want {
				if d := got[i] - tc.want[i]; d > 1e-6 || d < -1e-6 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
	if ResizeArea([]float64{1}, 2, 2, 1, 1) != nil || ResizeArea(nil, 0, 1, 1, 1) != nil {
		t.Fatal("bad sizes accepted")
	}
	// 105 -> 28: taps sum to 1, each output covers 3.75 pixels, and the
	// mean of the image is preserved.
	for _, tp := range areaTaps(105, 28) {
		s := 0.0
		for _, w := range tp.w {
			s += w
		}
		if s < 1-1e-12 || s > 1+1e-12 || len(tp.w) < 4 || len(tp.w) > 5 {
			t.Fatalf("tap %+v sums to %v", tp, s)
		}
	}
	src := make([]float64, 105*105)
	mean := 0.0
	for i := range src {
		src[i] = float64((i*7919)%13) / 12
		mean += src[i]
	}
	out := ResizeArea(src, 105, 105, 28, 28)
	omean := 0.0
	for _, v := range out {
		omean += float64(v)
	}
	if d := mean/(105*105) - omean/(28*28); d > 1e-6 || d < -1e-6 {
		t.Fatalf("mean %v -> %v", mean/(105*105), omean/(28*28))
	}
}
