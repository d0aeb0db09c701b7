package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// withKernels runs f with the given float32/float64 micro-kernels in use.
func withKernels(ks [2]*gemmKernel, f func()) {
	old32, old64 := gemmKernels.f32, gemmKernels.f64
	gemmKernels.f32, gemmKernels.f64 = ks[0], ks[1]
	defer func() { gemmKernels.f32, gemmKernels.f64 = old32, old64 }()
	f()
}

// smallBlocking returns a copy of kern with tiny cache blocks, so that small
// products run through every loop of gemmBlock (several kc, mc and nc
// blocks, including ragged last blocks).
func smallBlocking(kern *gemmKernel) *gemmKernel {
	k := *kern
	k.kc, k.mc, k.nc = 7, 2*k.mr, 3*k.nr
	k.name += "/small-blocks"
	return &k
}

// randSlice returns n normal values of type T.
func randSlice[T Float](rng *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(rng.NormFloat64())
	}
	return s
}

// refGemm is the float64 reference for C (+)= A*B on strided storage; it
// returns the expected C and the per-element error scale.
func refGemm[T Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool) (want, scale []float64) {
	want = make([]float64, m*n)
	scale = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s, sa := 0.0, 0.0
			if acc {
				s = float64(c[i*ldc+j])
				sa = math.Abs(s)
			}
			for p := 0; p < k; p++ {
				v := float64(a[i*lda+p]) * float64(b[p*ldb+j])
				s += v
				sa += math.Abs(v)
			}
			want[i*n+j], scale[i*n+j] = s, sa
		}
	}
	return
}

func tolFor[T Float]() float64 {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return 1e-5
	}
	return 1e-13
}

// checkGemm runs run (which must compute C (+)= A*B for the given strided
// operands) on random data and compares with refGemm. It also checks that C
// outside its m x n window is untouched and that A and B are unchanged.
func checkGemm[T Float](t *testing.T, name string, rng *rand.Rand, m, n, k, lda, ldb, ldc int, acc bool,
	run func(a []T, b []T, c []T)) {
	t.Helper()
	a := randSlice[T](rng, max(0, (m-1)*lda+k)+3)
	b := randSlice[T](rng, max(0, (k-1)*ldb+n)+3)
	c := randSlice[T](rng, max(0, (m-1)*ldc+n)+3)
	if !acc {
		// Overwrite must ignore whatever C held, even NaN.
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				if (i+j)%5 == 0 {
					c[i*ldc+j] = T(math.NaN())
				}
			}
		}
	}
	a0 := append([]T(nil), a...)
	b0 := append([]T(nil), b...)
	c0 := append([]T(nil), c...)
	want, scale := refGemm(m, n, k, a, lda, b, ldb, c, ldc, acc)
	run(a, b, c)
	bad := 0
	for i := range c {
		r, j := i/max(ldc, 1), i%max(ldc, 1)
		if r < m && j < n {
			g, w := float64(c[i]), want[r*n+j]
			if !(math.Abs(g-w) <= tolFor[T]()*scale[r*n+j]+1e-30) {
				if bad < 3 {
					t.Errorf("%s: C[%d,%d] = %.10g, want %.10g", name, r, j, g, w)
				}
				bad++
			}
		} else if c[i] != c0[i] && !(c[i] != c[i] && c0[i] != c0[i]) {
			if bad < 3 {
				t.Errorf("%s: C element %d outside the %dx%d window changed: %g -> %g", name, i, m, n, c0[i], c[i])
			}
			bad++
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d bad elements", name, bad)
	}
	for i := range a {
		if a[i] != a0[i] {
			t.Fatalf("%s: A changed at %d", name, i)
		}
	}
	for i := range b {
		if b[i] != b0[i] {
			t.Fatalf("%s: B changed at %d", name, i)
		}
	}
}

// TestGemmMicroKernels calls every micro-kernel available on this machine
// directly on packed panels, for several depths and both store modes.
func TestGemmMicroKernels(t *testing.T) {
	for _, ks := range availableKernels() {
		testMicroKernel[float32](t, ks[0])
		testMicroKernel[float64](t, ks[1])
	}
}

func testMicroKernel[T Float](t *testing.T, kern *gemmKernel) {
	rng := newRNG()
	mr, nr := kern.mr, kern.nr
	for _, kc := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 100} {
		for _, ldc := range []int{nr, nr + 3} {
			for _, acc := range []bool{false, true} {
				name := fmt.Sprintf("%s %T micro-kernel %dx%d kc=%d ldc=%d acc=%v", kern.name, T(0), mr, nr, kc, ldc, acc)
				// A as a row-major mr x kc matrix, B as kc x nr.
				checkGemm(t, name, rng, mr, nr, kc, kc, nr, ldc, acc, func(a, b, c []T) {
					ap := make([]T, mr*kc+1)
					bp := make([]T, kc*nr+1)
					packA(kern, mr, kc, a, kc, ap)
					packB(kc, nr, nr, b, nr, bp)
					kern.fn(kc, unsafe.Pointer(&ap[0]), unsafe.Pointer(&bp[0]), unsafe.Pointer(&c[0]), ldc, acc)
				})
			}
		}
	}
}

// gemmTestShapes are m, n, k triples with ragged edges for every tile size.
var gemmTestShapes = [][3]int{
	{1, 1, 1}, {4, 8, 4}, {5, 9, 3}, {6, 16, 8}, {7, 17, 9}, {12, 32, 5}, {13, 33, 20},
	{23, 47, 31}, {24, 64, 16}, {25, 65, 17}, {37, 100, 61}, {50, 31, 70}, {3, 70, 40},
	{70, 3, 40}, {64, 64, 1}, {97, 129, 33},
}

// TestGemmPackedKernels runs the packed multiply with every micro-kernel, in
// both precisions, on ragged shapes with padded leading dimensions, with the
// kernel's own blocking and with tiny blocks, serially and in parallel (also
// with tiny outer blocks).
func TestGemmPackedKernels(t *testing.T) {
	for _, ks := range availableKernels() {
		testGemmPacked[float32](t, ks[0])
		testGemmPacked[float64](t, ks[1])
	}
}

func testGemmPacked[T Float](t *testing.T, kern *gemmKernel) {
	rng := newRNG()
	for _, kn := range []*gemmKernel{kern, smallBlocking(kern)} {
		for si, s := range gemmTestShapes {
			m, n, k := s[0], s[1], s[2]
			pads := [][3]int{{0, 0, 0}, {3, 5, 7}, {16, 1, 32}}
			pad := pads[si%len(pads)]
			lda, ldb, ldc := k+pad[0], n+pad[1], n+pad[2]
			for _, acc := range []bool{false, true} {
				name := fmt.Sprintf("%s %T m=%d n=%d k=%d lda=%d ldb=%d ldc=%d acc=%v", kn.name, T(0), m, n, k, lda, ldb, ldc, acc)
				checkGemm(t, name+" serial", rng, m, n, k, lda, ldb, ldc, acc, func(a, b, c []T) {
					gemmPacked(kn, m, n, k, a, lda, b, ldb, c, ldc, acc, 1)
				})
				for _, workers := range []int{1, 2, 3} {
					checkGemm(t, fmt.Sprintf("%s parallel workers=%d", name, workers), rng, m, n, k, lda, ldb, ldc, acc, func(a, b, c []T) {
						gemmParallel(kn, m, n, k, a, lda, b, ldb, c, ldc, acc, workers)
					})
				}
				withOuterBlocks(2*kn.nr, 1, func() {
					checkGemm(t, name+" small outer blocks", rng, m, n, k, lda, ldb, ldc, acc, func(a, b, c []T) {
						gemmParallel(kn, m, n, k, a, lda, b, ldb, c, ldc, acc, 2)
					})
				})
			}
		}
	}
}

// withOuterBlocks runs f with the parallel multiply's outer blocks limited
// to mn rows/columns and about elems packed elements (at least one kc block).
func withOuterBlocks(mn, elems int, f func()) {
	oldMN, oldElems := gemmOuterMN, gemmOuterElems
	gemmOuterMN, gemmOuterElems = mn, elems
	defer func() { gemmOuterMN, gemmOuterElems = oldMN, oldElems }()
	f()
}

// TestGemmSmallKernels checks the unpacked kernels (where this CPU has
// them) for every tile height, ragged widths, padded leading dimensions and
// depths spanning several kc blocks, and that they round exactly like the
// packed path.
func TestGemmSmallKernels(t *testing.T) {
	for _, ks := range availableKernels() {
		if ks[0].direct != nil {
			testGemmSmall[float32](t, ks[0])
		}
		if ks[1].direct != nil {
			testGemmSmall[float64](t, ks[1])
		}
	}
}

func testGemmSmall[T Float](t *testing.T, kern *gemmKernel) {
	rng := newRNG()
	mr, nr := len(kern.direct), kern.nr
	ms := []int{1, 2, 3, mr - 1, mr, mr + 1, 2*mr + 5, 4*mr + 3}
	for r := 4; r < mr-1; r++ {
		ms = append(ms, r)
	}
	for _, kn := range []*gemmKernel{kern, smallBlocking(kern)} {
		for mi, m := range ms {
			for ni, n := range []int{1, 3, nr / 2, nr - 1, nr, nr + 1, 2*nr + 7} {
				k := []int{1, 2, 5, 9, 33, kn.kc + 3}[(mi+ni)%6]
				lda, ldb, ldc := k+mi%3, n+ni%4, n+(mi+ni)%5
				for _, acc := range []bool{false, true} {
					name := fmt.Sprintf("%s %T gemmSmall m=%d n=%d k=%d lda=%d ldb=%d ldc=%d acc=%v", kn.name, T(0), m, n, k, lda, ldb, ldc, acc)
					var packed []T
					checkGemm(t, name, rng, m, n, k, lda, ldb, ldc, acc, func(a, b, c []T) {
						packed = append([]T(nil), c...)
						gemmBlock(kn, m, n, k, a, lda, b, ldb, packed, ldc, acc)
						gemmSmall(kn, m, n, k, a, lda, b, ldb, c, ldc, acc)
						for i := range c {
							if c[i] != packed[i] && !(c[i] != c[i] && packed[i] != packed[i]) {
								t.Errorf("%s: element %d = %v, packed path %v", name, i, c[i], packed[i])
								break
							}
						}
					})
				}
			}
		}
	}
}

// TestGemmDispatch checks gemmRun and gemmSerial (packed or direct,
// depending on the shape) with each kernel set, including degenerate shapes.
func TestGemmDispatch(t *testing.T) {
	shapes := append([][3]int{{0, 5, 5}, {5, 0, 5}, {5, 5, 0}, {40, 40, 0}, {1, 300, 200}, {200, 300, 1},
		{10, 40, 40}, {33, 34, 35}, {130, 70, 90}, {300, 9, 40}}, gemmTestShapes...)
	for _, ks := range availableKernels() {
		withKernels(ks, func() {
			testGemmDispatch[float32](t, ks[0].name, shapes)
			testGemmDispatch[float64](t, ks[1].name, shapes)
		})
	}
}

func testGemmDispatch[T Float](t *testing.T, kname string, shapes [][3]int) {
	rng := newRNG()
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		lda, ldb, ldc := k+1, n+2, n+3
		for _, acc := range []bool{false, true} {
			for _, th := range []int{1, 2, 3} {
				withThreads(th, func() {
					name := fmt.Sprintf("%s %T gemmRun m=%d n=%d k=%d acc=%v threads=%d", kname, T(0), m, n, k, acc, th)
					checkGemm(t, name, rng, m, n, k, lda, ldb, ldc, acc, func(a, b, c []T) {
						gemmRun(m, n, k, a, lda, b, ldb, c, ldc, acc)
					})
				})
			}
			name := fmt.Sprintf("%s %T gemmSerial m=%d n=%d k=%d acc=%v", kname, T(0), m, n, k, acc)
			checkGemm(t, name, rng, m, n, k, lda, ldb, ldc, acc, func(a, b, c []T) {
				gemmSerial(m, n, k, a, lda, b, ldb, c, ldc, acc)
			})
		}
	}
}

// TestGemmPackedDeterminism checks that the packed multiply gives bitwise
// identical results for any number of workers and any 2-D split.
func TestGemmPackedDeterminism(t *testing.T) {
	for _, ks := range availableKernels() {
		testGemmPackedDeterminism[float32](t, ks[0])
		testGemmPackedDeterminism[float64](t, ks[1])
	}
}

func testGemmPackedDeterminism[T Float](t *testing.T, kern *gemmKernel) {
	rng := newRNG()
	for _, s := range [][3]int{{97, 129, 400}, {13, 300, 50}, {300, 13, 50}, {250, 260, 270}} {
		m, n, k := s[0], s[1], s[2]
		a := randSlice[T](rng, m*k)
		b := randSlice[T](rng, k*n)
		c0 := randSlice[T](rng, m*n)
		for _, acc := range []bool{false, true} {
			ref := append([]T(nil), c0...)
			gemmBlock(kern, m, n, k, a, k, b, n, ref, n, acc)
			for _, w := range []int{1, 2, 3, 4, 5, 7, 16} {
				for _, outer := range []int{gemmOuterMN, kern.nr} {
					c := append([]T(nil), c0...)
					withOuterBlocks(outer, gemmOuterElems, func() {
						gemmParallel(kern, m, n, k, a, k, b, n, c, n, acc, w)
					})
					for i := range c {
						if c[i] != ref[i] {
							t.Fatalf("%s %T %v acc=%v workers=%d outer=%d: element %d = %v, serial %v",
								kern.name, T(0), s, acc, w, outer, i, c[i], ref[i])
						}
					}
				}
			}
		}
	}
}

// TestParallelPaths lowers the parallel threshold so that small products,
// batched products and convolutions take their parallel paths, and checks
// them against the single-threaded results (bitwise, except for the weight
// gradient, whose per-worker partial sums depend on the thread count).
func TestParallelPaths(t *testing.T) {
	old := gemmParallelMinWork
	gemmParallelMinWork = 1
	defer func() { gemmParallelMinWork = old }()
	for _, dt := range dtypes {
		rng := newRNG()
		a, b := randT(rng, dt, 37, 45), randT(rng, dt, 45, 29)
		ba, bb := randT(rng, dt, 5, 13, 17), randT(rng, dt, 5, 17, 11)
		x, w := randT(rng, dt, 5, 3, 9, 8), randT(rng, dt, 4, 3, 3, 3)
		gy := randT(rng, dt, 5, 4, 9, 8)
		var ref []*Tensor
		results := func() []*Tensor {
			return []*Tensor{
				MatMul(a, b), MatMul(ba, bb),
				Conv2d(x, w, 1, 1), Conv2dInputGrad(gy, w, x.Shape(), 1, 1),
				Conv2d(x, w, 2, 0), Conv2dInputGrad(randT(newRNG(), dt, 5, 4, 4, 3), w, x.Shape(), 2, 0),
				Conv2dWeightGrad(x, gy, w.Shape(), 1, 1),
			}
		}
		withThreads(1, func() { ref = results() })
		for _, th := range []int{2, 3, 8} {
			withThreads(th, func() {
				got := results()
				for i := range got {
					name := fmt.Sprintf("%v result %d threads=%d", dt, i, th)
					if i == len(got)-1 {
						checkValues(t, name, got[i], ref[i].Shape(), ref[i].Values(), 1e-4, 1e-4)
						continue
					}
					checkExact(t, name, got[i], ref[i].Shape(), ref[i].Values())
				}
			})
		}
	}
}

// TestAddTo checks addTo (assembly where available) against a plain loop.
func TestAddTo(t *testing.T) {
	testAddTo[float32](t)
	testAddTo[float64](t)
	old := vecAdd
	vecAdd = [2]func(dst, src unsafe.Pointer, n int){}
	defer func() { vecAdd = old }()
	testAddTo[float32](t)
	testAddTo[float64](t)
}

func testAddTo[T Float](t *testing.T) {
	rng := newRNG()
	for n := 0; n < 80; n++ {
		d := randSlice[T](rng, n+2)
		s := randSlice[T](rng, n+1)
		want := append([]T(nil), d...)
		for i := 0; i < n; i++ {
			want[i] += s[i]
		}
		addTo(d[:n], s)
		for i := range d {
			if d[i] != want[i] {
				t.Fatalf("addTo %T n=%d: element %d = %v, want %v", T(0), n, i, d[i], want[i])
			}
		}
	}
}

// TestGemmKernelSelection checks that the kernel in use is the best one the
// CPU supports and that every kernel's blocking is consistent.
func TestGemmKernelSelection(t *testing.T) {
	ks := availableKernels()
	if gemmKernels.f32 != ks[0][0] || gemmKernels.f64 != ks[0][1] {
		t.Errorf("kernels in use %s/%s, want %s/%s", gemmKernels.f32.name, gemmKernels.f64.name, ks[0][0].name, ks[0][1].name)
	}
	if last := ks[len(ks)-1]; last[0].name != "generic" {
		t.Errorf("last kernel %s, want generic", last[0].name)
	}
	for _, pair := range ks {
		for _, k := range pair {
			if k.mr < 1 || k.nr < 1 || k.kc < 1 || k.mc%k.mr != 0 || k.nc%k.nr != 0 {
				t.Errorf("kernel %s: bad blocking %+v", k.name, *k)
			}
		}
	}
	t.Logf("gemm kernels: %s (float32 %dx%d), %s (float64 %dx%d)",
		gemmKernels.f32.name, gemmKernels.f32.mr, gemmKernels.f32.nr, gemmKernels.f64.name, gemmKernels.f64.mr, gemmKernels.f64.nr)
}
