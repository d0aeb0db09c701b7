package data

import (
	"fmt"

	"github.com/metalearn/metalearn/tensor"
)

// ClassDataset is a labelled image collection organised by class, the input
// of episodic (N-way K-shot) task sampling.
//
// Images holds every image as a float32 tensor [N, C, H, W] (float64 is
// accepted too). ByClass[c] lists the indices into Images (first axis) of
// the examples of class c, and ClassNames[c] names it. Datasets made by
// Subset share Images with their parent, so Images may hold rows that no
// class refers to.
type ClassDataset struct {
	Images     *tensor.Tensor // float32 [N, C, H, W]
	ByClass    [][]int        // indices into Images per class
	ClassNames []string
}

// Validate checks that Images is a 4-D tensor, that ByClass and ClassNames
// have one entry per class, and that every class is non-empty with indices
// in range and no repeats.
func (d *ClassDataset) Validate() error {
	if d == nil {
		return fmt.Errorf("data: nil ClassDataset")
	}
	if d.Images == nil {
		return fmt.Errorf("data: ClassDataset has no Images tensor")
	}
	if d.Images.Dims() != 4 {
		return fmt.Errorf("data: ClassDataset Images has shape %v, want [N, C, H, W]", d.Images.Shape())
	}
	if len(d.ByClass) != len(d.ClassNames) {
		return fmt.Errorf("data: ClassDataset has %d classes in ByClass but %d ClassNames", len(d.ByClass), len(d.ClassNames))
	}
	if len(d.ByClass) == 0 {
		return fmt.Errorf("data: ClassDataset has no classes")
	}
	n := d.Images.Dim(0)
	for c, idx := range d.ByClass {
		if len(idx) == 0 {
			return fmt.Errorf("data: class %d (%q) has no examples", c, d.ClassNames[c])
		}
		seen := make(map[int]bool, len(idx))
		for _, i := range idx {
			if i < 0 || i >= n {
				return fmt.Errorf("data: class %d (%q) refers to image %d, outside [0, %d)", c, d.ClassNames[c], i, n)
			}
			if seen[i] {
				return fmt.Errorf("data: class %d (%q) lists image %d twice", c, d.ClassNames[c], i)
			}
			seen[i] = true
		}
	}
	return nil
}

// NumClasses returns the number of classes.
func (d *ClassDataset) NumClasses() int { return len(d.ByClass) }

// NumImages returns the number of class members over all classes.
func (d *ClassDataset) NumImages() int {
	n := 0
	for _, idx := range d.ByClass {
		n += len(idx)
	}
	return n
}

// ImageShape returns the shape [C, H, W] of one image.
func (d *ClassDataset) ImageShape() []int { return append([]int(nil), d.Images.Shape()[1:]...) }

// ClassIndex returns the index of the class called name, or -1.
func (d *ClassDataset) ClassIndex(name string) int {
	for i, n := range d.ClassNames {
		if n == name {
			return i
		}
	}
	return -1
}

// Subset returns the dataset restricted to the given classes, in the order
// given (new class i is old class classes[i]). Images is shared, not copied.
// An out-of-range class index is a programming error and panics, like slice
// indexing.
func (d *ClassDataset) Subset(classes []int) *ClassDataset {
	out := &ClassDataset{Images: d.Images, ByClass: make([][]int, len(classes)), ClassNames: make([]string, len(classes))}
	for i, c := range classes {
		if c < 0 || c >= len(d.ByClass) {
			panic(fmt.Sprintf("data: Subset: class %d out of range [0, %d)", c, len(d.ByClass)))
		}
		out.ByClass[i] = append([]int(nil), d.ByClass[c]...)
		out.ClassNames[i] = d.ClassNames[c]
	}
	return out
}

// WithRotations returns a new dataset with 4x the classes: the original
// classes (unchanged names) followed by every class rotated 90, 180 and 270
// degrees counter-clockwise (as PIL's Image.rotate and numpy.rot90), named
// with the suffixes "/rot090", "/rot180", "/rot270". Class k*n+c (n the
// original number of classes) is class c rotated 90k degrees. The result
// holds fresh, compact image storage: only images some class refers to.
//
// The images must be square; WithRotations panics otherwise (use Rotate to
// get an error instead).
func (d *ClassDataset) WithRotations() *ClassDataset {
	out, err := d.Rotate([]int{0, 90, 180, 270}, true)
	if err != nil {
		panic("data: WithRotations: " + err.Error())
	}
	return out
}

// Rotate returns a dataset with one class per (rotation, class) pair,
// rotation-major: for each angle in degrees (0, 90, 180 or 270,
// counter-clockwise) a copy of every class rotated by it. With keepNames,
// angle 0 keeps the class name and other angles add the suffix "/rotDDD";
// otherwise every class gets its suffix, "/rot000" included. Non-zero angles
// need square images. Image storage is fresh and compact.
func (d *ClassDataset) Rotate(degrees []int, keepNames bool) (*ClassDataset, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if len(degrees) == 0 {
		return nil, fmt.Errorf("data: Rotate: no angles given")
	}
	shp := d.Images.Shape()
	for _, deg := range degrees {
		switch deg {
		case 0, 180:
		case 90, 270:
			if shp[2] != shp[3] {
				return nil, fmt.Errorf("data: rotating %v by %d degrees needs square images, have %dx%d", shp, deg, shp[2], shp[3])
			}
		default:
			return nil, fmt.Errorf("data: unsupported rotation %d degrees (want 0, 90, 180 or 270)", deg)
		}
	}
	type item struct{ class, deg int }
	var items []item
	for _, deg := range degrees {
		for c := range d.ByClass {
			items = append(items, item{c, deg})
		}
	}
	var (
		srcIdx, degs []int
		names        []string
		byClass      = make([][]int, len(items))
	)
	for k, it := range items {
		name := d.ClassNames[it.class]
		if it.deg != 0 || !keepNames {
			name = fmt.Sprintf("%s/rot%03d", name, it.deg)
		}
		names = append(names, name)
		for _, i := range d.ByClass[it.class] {
			byClass[k] = append(byClass[k], len(srcIdx))
			srcIdx = append(srcIdx, i)
			degs = append(degs, it.deg)
		}
	}
	return &ClassDataset{Images: gatherRotated(d.Images, srcIdx, degs), ByClass: byClass, ClassNames: names}, nil
}

// gatherRotated returns images[srcIdx[j]] rotated by degs[j], stacked.
func gatherRotated(images *tensor.Tensor, srcIdx, degs []int) *tensor.Tensor {
	shp := images.Shape()
	c, h, w := shp[1], shp[2], shp[3]
	out := tensor.New(images.DType(), len(srcIdx), c, h, w)
	plane := h * w
	if images.DType() == tensor.Float32 {
		src, dst := images.F32(), out.F32()
		for j, i := range srcIdx {
			for ch := 0; ch < c; ch++ {
				rotatePlane(dst[(j*c+ch)*plane:(j*c+ch+1)*plane], src[(i*c+ch)*plane:(i*c+ch+1)*plane], h, w, degs[j])
			}
		}
	} else {
		src, dst := images.F64(), out.F64()
		for j, i := range srcIdx {
			for ch := 0; ch < c; ch++ {
				rotatePlane(dst[(j*c+ch)*plane:(j*c+ch+1)*plane], src[(i*c+ch)*plane:(i*c+ch+1)*plane], h, w, degs[j])
			}
		}
	}
	return out
}

// rotatePlane writes src (h x w) rotated counter-clockwise by deg into dst.
// 90 and 270 need h == w.
func rotatePlane[T tensor.Float](dst, src []T, h, w, deg int) {
	switch deg {
	case 0:
		copy(dst, src)
	case 90: // numpy.rot90(k=1): out[i][j] = in[j][w-1-i]
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				dst[i*w+j] = src[j*w+(w-1-i)]
			}
		}
	case 180:
		n := h * w
		for k := 0; k < n; k++ {
			dst[k] = src[n-1-k]
		}
	case 270: // numpy.rot90(k=3): out[i][j] = in[h-1-j][i]
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				dst[i*w+j] = src[(h-1-j)*w+i]
			}
		}
	}
}

// ConcatClassDatasets returns the classes of a followed by those of b, with
// image storage copied into one tensor. The image shapes and dtypes must
// agree.
func ConcatClassDatasets(a, b *ClassDataset) (*ClassDataset, error) {
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("data: ConcatClassDatasets: first dataset: %w", err)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("data: ConcatClassDatasets: second dataset: %w", err)
	}
	if !tensor.SameShape(a.ImageShape(), b.ImageShape()) {
		return nil, fmt.Errorf("data: ConcatClassDatasets: image shapes %v and %v differ", a.ImageShape(), b.ImageShape())
	}
	if a.Images.DType() != b.Images.DType() {
		return nil, fmt.Errorf("data: ConcatClassDatasets: dtypes %v and %v differ", a.Images.DType(), b.Images.DType())
	}
	off := a.Images.Dim(0)
	out := &ClassDataset{
		Images:     tensor.Concat(0, a.Images, b.Images),
		ClassNames: append(append([]string(nil), a.ClassNames...), b.ClassNames...),
	}
	for _, idx := range a.ByClass {
		out.ByClass = append(out.ByClass, append([]int(nil), idx...))
	}
	for _, idx := range b.ByClass {
		shifted := make([]int, len(idx))
		for i, v := range idx {
			shifted[i] = v + off
		}
		out.ByClass = append(out.ByClass, shifted)
	}
	return out, nil
}
