package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type binCase struct {
	name string
	f    func(a, b *Tensor) *Tensor
	ref  func(x, y float64) float64
	// gen makes the operands (nil: standard normal).
	gen func(rng *rand.Rand, dt DType, shape []int) *Tensor
	// genB overrides gen for the second operand.
	genB func(rng *rand.Rand, dt DType, shape []int) *Tensor
}

func boolF(c bool) float64 {
	if c {
		return 1
	}
	return 0
}

func genNormal(rng *rand.Rand, dt DType, shape []int) *Tensor { return randT(rng, dt, shape...) }

// genSmallInts gives values in {-2,...,2} so comparisons see many ties.
func genSmallInts(rng *rand.Rand, dt DType, shape []int) *Tensor {
	return randInts(rng, dt, -2, 2, shape...)
}

func genPositive(rng *rand.Rand, dt DType, shape []int) *Tensor {
	return RandU(rng, dt, 0.1, 3, shape...)
}

// genAwayFromZero gives values with 0.5 <= |v| < 2.
func genAwayFromZero(rng *rand.Rand, dt DType, shape []int) *Tensor {
	t := RandU(rng, dt, 0.5, 2, shape...)
	for i := 0; i < t.Len(); i++ {
		if rng.IntN(2) == 0 {
			t.SetFlat(i, -t.Flat(i))
		}
	}
	return t
}

var binCases = []binCase{
	{name: "Add", f: Add, ref: func(x, y float64) float64 { return x + y }},
	{name: "Sub", f: Sub, ref: func(x, y float64) float64 { return x - y }},
	{name: "Mul", f: Mul, ref: func(x, y float64) float64 { return x * y }},
	{name: "Div", f: Div, ref: func(x, y float64) float64 { return x / y }, genB: genAwayFromZero},
	{name: "Pow", f: Pow, ref: math.Pow, gen: genPositive, genB: genNormal},
	{name: "Maximum", f: Maximum, ref: math.Max, gen: genSmallInts},
	{name: "Minimum", f: Minimum, ref: math.Min, gen: genSmallInts},
	{name: "MaximumNormal", f: Maximum, ref: math.Max},
	{name: "MinimumNormal", f: Minimum, ref: math.Min},
	{name: "Greater", f: Greater, ref: func(x, y float64) float64 { return boolF(x > y) }, gen: genSmallInts},
	{name: "GreaterEqual", f: GreaterEqual, ref: func(x, y float64) float64 { return boolF(x >= y) }, gen: genSmallInts},
	{name: "Less", f: Less, ref: func(x, y float64) float64 { return boolF(x < y) }, gen: genSmallInts},
	{name: "LessEqual", f: LessEqual, ref: func(x, y float64) float64 { return boolF(x <= y) }, gen: genSmallInts},
	{name: "Equal", f: Equal, ref: func(x, y float64) float64 { return boolF(x == y) }, gen: genSmallInts},
}

// bcastPairs are the operand shape pairs every binary op is tested on.
var bcastPairs = [][2][]int{
	{{2, 3}, {2, 3}},
	{{5}, {5}},
	{{}, {2, 3}},
	{{2, 3}, {}},
	{{}, {}},
	{{1}, {}},
	{{}, {1, 1}},
	{{3, 1}, {1, 4}},
	{{1, 4}, {3, 1}},
	{{2, 3, 4}, {4}},
	{{4}, {2, 3, 4}},
	{{2, 3, 4}, {3, 4}},
	{{2, 3, 4}, {2, 3, 1}},
	{{2, 1, 4}, {3, 1}},
	{{3, 1}, {2, 1, 4}},
	{{2, 3, 4}, {2, 1, 4}},
	{{2, 3, 4}, {1, 3, 1}},
	{{1, 3, 1}, {2, 1, 4}},
	{{6, 1}, {6}},
	{{5, 1, 1}, {1, 1, 5}},
	{{2, 1, 3, 1}, {1, 4, 1, 5}},
	{{1, 3, 1, 4}, {2, 1, 5, 1}},
	{{2, 3, 1}, {2, 1, 1}},
	{{1, 1, 7}, {7, 1, 1}},
	{{0}, {}},
	{{0, 3}, {3}},
	{{2, 0}, {1}},
	{{2, 0, 3}, {1, 3}},
	{{0, 1}, {1, 4}},
	// large enough for the parallel path
	{{64, 1, 128}, {1, 32, 128}},
	{{300, 200}, {200}},
	// a short row repeated down a matrix (binaryRowRepeat), either side,
	// with a partial last block
	{{800, 10}, {10}},
	{{10}, {700, 10}},
	{{2, 400, 3}, {3}},
	{{1, 1}, {1025, 1}},
	{{3000, 255}, {255}},
	{{300, 1}, {300, 200}},
	{{40000}, {40000}},
	{{}, {50000}},
}

// refBinary computes op(a, b) with broadcasting by naive iteration over the
// output multi-indices.
func refBinary(dt DType, a, b *Tensor, ref func(x, y float64) float64) ([]int, []float64) {
	shape, ok := refBroadcastShape(a.Shape(), b.Shape())
	if !ok {
		panic("refBinary: incompatible shapes")
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	out := make([]float64, n)
	for i := range out {
		idx := unravel(i, shape)
		x := a.Flat(bcastFlat(idx, a.Shape()))
		y := b.Flat(bcastFlat(idx, b.Shape()))
		out[i] = round(dt, ref(x, y))
	}
	return shape, out
}

func TestBinaryBroadcast(t *testing.T) {
	for _, bc := range binCases {
		for _, dt := range dtypes {
			t.Run(bc.name+"/"+dt.String(), func(t *testing.T) {
				rng := newRNG()
				genA := bc.gen
				if genA == nil {
					genA = genNormal
				}
				genB := bc.genB
				if genB == nil {
					genB = genA
				}
				for _, pair := range bcastPairs {
					a := genA(rng, dt, pair[0])
					b := genB(rng, dt, pair[1])
					a0, b0 := a.Values(), b.Values()
					got := bc.f(a, b)
					name := fmt.Sprintf("%s%v%v", bc.name, pair[0], pair[1])
					checkDType(t, name, got, dt)
					shape, want := refBinary(dt, a, b, bc.ref)
					checkValues(t, name, got, shape, want, elemTol(dt), 0)
					// operands are never modified
					checkExact(t, name+" operand a", a, pair[0], a0)
					checkExact(t, name+" operand b", b, pair[1], b0)
				}
			})
		}
	}
}

func TestBinaryThreadsAgree(t *testing.T) {
	rng := newRNG()
	for _, dt := range dtypes {
		a := randT(rng, dt, 64, 1, 130)
		b := randT(rng, dt, 1, 33, 130)
		var ref *Tensor
		withThreads(1, func() { ref = Div(a, b) })
		for _, n := range threadCounts {
			withThreads(n, func() {
				checkExact(t, fmt.Sprintf("Div threads=%d", n), Div(a, b), ref.Shape(), ref.Values())
			})
		}
	}
}

func TestBinarySpecialValues(t *testing.T) {
	inf := math.Inf(1)
	nan := math.NaN()
	xs := []float64{0, -1, 1, inf, -inf, nan, 2}
	ys := []float64{0, 0, nan, inf, 1, 3, -inf}
	for _, dt := range dtypes {
		a := FromValues(dt, xs, len(xs))
		b := FromValues(dt, ys, len(ys))
		for _, bc := range binCases {
			got := bc.f(a, b)
			want := make([]float64, len(xs))
			for i := range xs {
				want[i] = round(dt, bc.ref(xs[i], ys[i]))
			}
			checkValues(t, bc.name+" special "+dt.String(), got, []int{len(xs)}, want, elemTol(dt), 0)
		}
		// NaN propagates through Maximum/Minimum from either side.
		for _, f := range []func(a, b *Tensor) *Tensor{Maximum, Minimum} {
			r := f(FromValues(dt, []float64{nan, 1}, 2), FromValues(dt, []float64{1, nan}, 2))
			if !math.IsNaN(r.Flat(0)) || !math.IsNaN(r.Flat(1)) {
				t.Errorf("Maximum/Minimum drop NaN: %v", r)
			}
		}
	}
}

func TestBroadcastShapes(t *testing.T) {
	good := [][3][]int{
		{{2, 3}, {2, 3}, {2, 3}},
		{{}, {4, 5}, {4, 5}},
		{{3, 1}, {1, 4}, {3, 4}},
		{{2, 1, 4}, {3, 1}, {2, 3, 4}},
		{{0}, {1}, {0}},
		{{1}, {0}, {0}},
		{{0, 3}, {3}, {0, 3}},
		{{8, 1, 6, 1}, {7, 1, 5}, {8, 7, 6, 5}},
		{{}, {}, {}},
	}
	for _, g := range good {
		s, err := BroadcastShapes(g[0], g[1])
		if err != nil || !shapeEq(s, g[2]) {
			t.Errorf("BroadcastShapes(%v, %v) = %v, %v; want %v", g[0], g[1], s, err, g[2])
		}
		s2, err := BroadcastShapes(g[1], g[0])
		if err != nil || !shapeEq(s2, g[2]) {
			t.Errorf("BroadcastShapes(%v, %v) = %v, %v; want %v", g[1], g[0], s2, err, g[2])
		}
	}
	bad := [][2][]int{
		{{3}, {4}},
		{{2, 3}, {3, 2}},
		{{2, 1}, {8, 4, 3}},
		{{0}, {2}},
		{{2, 3, 4}, {2, 4}},
	}
	for _, p := range bad {
		if s, err := BroadcastShapes(p[0], p[1]); err == nil {
			t.Errorf("BroadcastShapes(%v, %v) = %v, want an error", p[0], p[1], s)
		}
		if _, err := BroadcastShapes(p[1], p[0]); err == nil {
			t.Errorf("BroadcastShapes(%v, %v): want an error", p[1], p[0])
		}
		for _, bc := range binCases[:5] {
			a, b := New(Float64, p[0]...), New(Float64, p[1]...)
			mustPanic(t, bc.name, func() { bc.f(a, b) }, bc.name, "broadcast")
		}
	}
}

func TestBinaryPanics(t *testing.T) {
	names := []string{"Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Greater", "GreaterEqual", "Less", "LessEqual", "Equal"}
	fs := []func(a, b *Tensor) *Tensor{Add, Sub, Mul, Div, Pow, Maximum, Minimum, Greater, GreaterEqual, Less, LessEqual, Equal}
	for i, f := range fs {
		mustPanic(t, names[i]+" shape", func() { f(New(Float32, 2, 3), New(Float32, 4)) }, names[i], "[2 3]", "[4]")
		mustPanic(t, names[i]+" dtype", func() { f(New(Float32, 2), New(Float64, 2)) }, names[i], "dtype")
	}
}

func TestWhere(t *testing.T) {
	shapes := [][3][]int{ // cond, a, b
		{{2, 3}, {2, 3}, {2, 3}},
		{{3, 1}, {1, 4}, {}},
		{{}, {2, 3}, {3}},
		{{4}, {3, 1}, {2, 1, 1}},
		{{2, 1, 4}, {3, 1}, {1}},
		{{0, 3}, {3}, {}},
	}
	for _, dt := range dtypes {
		rng := newRNG()
		for _, s := range shapes {
			cond := randInts(rng, dt, 0, 1, s[0]...)
			a := randT(rng, dt, s[1]...)
			b := randT(rng, dt, s[2]...)
			got := Where(cond, a, b)
			shape, _ := refBroadcastShape(s[1], s[2])
			shape, _ = refBroadcastShape(shape, s[0])
			want := make([]float64, NumElems(shape))
			for i := range want {
				idx := unravel(i, shape)
				if cond.Flat(bcastFlat(idx, s[0])) != 0 {
					want[i] = a.Flat(bcastFlat(idx, s[1]))
				} else {
					want[i] = b.Flat(bcastFlat(idx, s[2]))
				}
			}
			checkExact(t, fmt.Sprintf("Where%v%v%v", s[0], s[1], s[2]), got, shape, want)
		}
		// Infinities and NaN pass through exactly; any nonzero cond selects a.
		cond := FromValues(dt, []float64{0.5, 0, -1, math.NaN()}, 4)
		a := FromValues(dt, []float64{math.Inf(1), 1, math.Inf(-1), 2}, 4)
		b := FromValues(dt, []float64{0, math.NaN(), 0, 3}, 4)
		checkExact(t, "Where special", Where(cond, a, b), []int{4}, []float64{math.Inf(1), math.NaN(), math.Inf(-1), 2})
	}
	mustPanic(t, "Where shape", func() { Where(New(Float64, 3), New(Float64, 4), New(Float64, 4)) }, "Where")
	mustPanic(t, "Where dtype", func() { Where(New(Float32, 3), New(Float64, 3), New(Float64, 3)) }, "Where", "dtype")
}

func TestBroadcastTo(t *testing.T) {
	cases := [][2][]int{
		{{3, 1}, {2, 3, 4}},
		{{}, {2, 2}},
		{{4}, {3, 4}},
		{{1, 1}, {5, 1}},
		{{2, 1}, {2, 0}},
	}
	for _, dt := range dtypes {
		rng := newRNG()
		for _, c := range cases {
			x := randT(rng, dt, c[0]...)
			got := BroadcastTo(x, c[1])
			want := make([]float64, NumElems(c[1]))
			for i := range want {
				want[i] = x.Flat(bcastFlat(unravel(i, c[1]), c[0]))
			}
			checkExact(t, fmt.Sprintf("BroadcastTo%v->%v", c[0], c[1]), got, c[1], want)
		}
		x := randT(rng, dt, 2, 3)
		if BroadcastTo(x, []int{2, 3}) != x {
			t.Errorf("BroadcastTo to the same shape should return its input")
		}
		mustPanic(t, "BroadcastTo incompatible", func() { BroadcastTo(x, []int{3, 3}) }, "BroadcastTo", "[2 3]", "[3 3]")
		mustPanic(t, "BroadcastTo lower rank", func() { BroadcastTo(x, []int{3}) }, "BroadcastTo")
		mustPanic(t, "BroadcastTo not an expansion", func() { BroadcastTo(New(dt, 1, 3), []int{2, 1}) }, "BroadcastTo")
	}
}

type unCase struct {
	name string
	f    func(*Tensor) *Tensor
	ref  func(float64) float64
	in   []float64 // inputs in addition to random normals*3
	pos  bool      // restrict random inputs to positive values
	rtol float64   // extra relative tolerance for float64 (transcendental refs)
}

func sigmoidRef(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

var unCases = []unCase{
	{name: "Neg", f: Neg, ref: func(x float64) float64 { return -x }, in: []float64{0, math.Inf(1)}},
	{name: "Exp", f: Exp, ref: math.Exp, in: []float64{0, -800, 50}},
	{name: "Log", f: Log, ref: math.Log, pos: true, in: []float64{0, 1, -1, math.Inf(1)}},
	{name: "Log1p", f: Log1p, ref: math.Log1p, pos: true, in: []float64{0, 1e-10, -1}},
	{name: "Sqrt", f: Sqrt, ref: math.Sqrt, pos: true, in: []float64{0, 4, -1}},
	{name: "Abs", f: Abs, ref: math.Abs, in: []float64{0, -7, math.Inf(-1)}},
	{name: "Sign", f: Sign, ref: func(x float64) float64 {
		if x > 0 {
			return 1
		}
		if x < 0 {
			return -1
		}
		return 0
	}, in: []float64{0, 1e-30, -1e-30, math.Inf(-1)}},
	{name: "Tanh", f: Tanh, ref: func(x float64) float64 {
		if math.Abs(x) > 20 {
			return math.Copysign(1, x)
		}
		e := math.Expm1(2 * x)
		return e / (e + 2)
	}, in: []float64{0, 20, -20, 1000, -1000}, rtol: 1e-14},
	{name: "Sigmoid", f: Sigmoid, ref: func(x float64) float64 {
		if x < -30 {
			return math.Exp(x) // 1/(1+e^-x) loses nothing relative to e^x here
		}
		return sigmoidRef(x)
	}, in: []float64{0, 30, -30, 100, -100, 745, -745, 1000, -1000, math.Inf(1), math.Inf(-1)}, rtol: 1e-14},
	{name: "Relu", f: Relu, ref: func(x float64) float64 { return math.Max(x, 0) }, in: []float64{0, -1e-30}},
	{name: "Positive", f: Positive, ref: func(x float64) float64 { return boolF(x > 0) }, in: []float64{0, 1e-30, -1e-30}},
	{name: "Erf", f: Erf, ref: math.Erf, in: []float64{0, 1, -1, 6, -6}},
	{name: "Softplus", f: Softplus, ref: func(x float64) float64 {
		// log(1+e^x) = x + log(1+e^-x), each evaluated where e^(.) <= 1
		if x > 0 {
			return x + math.Log1p(math.Exp(-x))
		}
		return math.Log1p(math.Exp(x))
	}, in: []float64{0, 100, -100, 700, -700, 1000, -1000}, rtol: 1e-14},
	{name: "Square", f: Square, ref: func(x float64) float64 { return x * x }, in: []float64{0, -3}},
	{name: "Recip", f: Recip, ref: func(x float64) float64 { return 1 / x }, in: []float64{0, -4, math.Inf(1)}},
	{name: "Sin", f: Sin, ref: math.Sin, in: []float64{0, math.Pi}},
	{name: "Cos", f: Cos, ref: math.Cos, in: []float64{0, math.Pi}},
	{name: "Scale2.5", f: func(t *Tensor) *Tensor { return Scale(t, 2.5) }, ref: func(x float64) float64 { return 2.5 * x }},
	{name: "Scale0", f: func(t *Tensor) *Tensor { return Scale(t, 0) }, ref: func(x float64) float64 { return 0 * x }},
	{name: "Scale-1", f: func(t *Tensor) *Tensor { return Scale(t, -1) }, ref: func(x float64) float64 { return -x }},
	{name: "AddScalar", f: func(t *Tensor) *Tensor { return AddScalar(t, -1.25) }, ref: func(x float64) float64 { return x - 1.25 }},
	{name: "LeakyRelu0.1", f: func(t *Tensor) *Tensor { return LeakyRelu(t, 0.1) }, ref: func(x float64) float64 {
		if x > 0 {
			return x
		}
		return 0.1 * x
	}, in: []float64{0, -10}},
	{name: "LeakyRelu0", f: func(t *Tensor) *Tensor { return LeakyRelu(t, 0) }, ref: func(x float64) float64 { return math.Max(x, 0) }},
	{name: "LeakyRelu-2", f: func(t *Tensor) *Tensor { return LeakyRelu(t, -2) }, ref: func(x float64) float64 {
		if x > 0 {
			return x
		}
		return -2 * x
	}},
}

func init() {
	for _, p := range []float64{0, 1, 2, 0.5, -1, 3, -2.5, 1.7} {
		unCases = append(unCases, unCase{
			name: fmt.Sprintf("PowScalar%g", p),
			f:    func(t *Tensor) *Tensor { return PowScalar(t, p) },
			ref:  func(x float64) float64 { return math.Pow(x, p) },
			pos:  true,
			in:   []float64{0, 1, 4},
		})
	}
}

func TestUnary(t *testing.T) {
	for _, uc := range unCases {
		for _, dt := range dtypes {
			t.Run(uc.name+"/"+dt.String(), func(t *testing.T) {
				rng := newRNG()
				for _, n := range []int{0, 1, 23, 40000} { // 40000 takes the parallel path
					vals := append([]float64{}, uc.in...)
					for len(vals) < n {
						v := rng.NormFloat64() * 3
						if uc.pos {
							v = math.Abs(v) + 1e-3
						}
						vals = append(vals, v)
					}
					vals = vals[:n]
					x := FromValues(dt, vals, len(vals))
					x0 := x.Values()
					got := uc.f(x)
					checkDType(t, uc.name, got, dt)
					want := make([]float64, len(vals))
					for i := range want {
						want[i] = round(dt, uc.ref(x0[i]))
					}
					rtol := elemTol(dt)
					if dt == Float64 {
						rtol += uc.rtol
					} else {
						rtol += 2e-7
					}
					atol := 1e-300
					if dt == Float32 {
						atol = 2e-45 // one subnormal ulp
					}
					checkValues(t, fmt.Sprintf("%s(n=%d)", uc.name, n), got, []int{len(vals)}, want, rtol, atol)
					checkExact(t, uc.name+" input", x, []int{len(vals)}, x0)
					if got == x {
						t.Errorf("%s returned its input", uc.name)
					}
				}
				// Shape is preserved for higher-rank input.
				x := randT(rng, dt, 2, 3, 4)
				if uc.pos {
					x = Abs(x)
				}
				if got := uc.f(x); !shapeEq(got.Shape(), []int{2, 3, 4}) {
					t.Errorf("%s: shape %v", uc.name, got.Shape())
				}
				if got := uc.f(Scalar(dt, 0.5)); got.Dims() != 0 {
					t.Errorf("%s of a scalar: shape %v", uc.name, got.Shape())
				}
			})
		}
	}
}

// TestUnaryStability checks the numerically delicate functions at extreme
// arguments: no NaN, no Inf, and the right limits.
func TestUnaryStability(t *testing.T) {
	for _, dt := range dtypes {
		xs := []float64{-1000, -100, -50, 50, 100, 1000}
		x := FromValues(dt, xs, len(xs))
		sig := Sigmoid(x)
		sp := Softplus(x)
		th := Tanh(x)
		for i, v := range xs {
			s := sig.Flat(i)
			if math.IsNaN(s) || s < 0 || s > 1 {
				t.Errorf("%v Sigmoid(%v) = %v", dt, v, s)
			}
			if v > 0 && s != 1 || v < 0 && s > round(dt, math.Exp(v))*1.0001 {
				t.Errorf("%v Sigmoid(%v) = %v, wrong limit", dt, v, s)
			}
			p := sp.Flat(i)
			if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
				t.Errorf("%v Softplus(%v) = %v", dt, v, p)
			}
			if v > 0 && p != v {
				t.Errorf("%v Softplus(%v) = %v, want %v", dt, v, p, v)
			}
			if v < 0 && !closeTo(p, round(dt, math.Exp(v)), 1e-6, 0) {
				t.Errorf("%v Softplus(%v) = %v, want exp(x) = %v", dt, v, p, math.Exp(v))
			}
			if th := th.Flat(i); th != math.Copysign(1, v) {
				t.Errorf("%v Tanh(%v) = %v", dt, v, th)
			}
		}
		if got := Softplus(Scalar(dt, 0)).Item(); !closeTo(got, math.Ln2, elemTol(dt), 0) {
			t.Errorf("Softplus(0) = %v", got)
		}
		if got := Sigmoid(Scalar(dt, 0)).Item(); got != 0.5 {
			t.Errorf("Sigmoid(0) = %v", got)
		}
		// Erf at known values (independent of math.Erf).
		for _, c := range [][2]float64{{0, 0}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {-2, -0.9953222650189527}, {3, 0.9999779095030014}} {
			if got := Erf(Scalar(dt, c[0])).Item(); !closeTo(got, c[1], 2*elemTol(dt), 1e-300) {
				t.Errorf("%v Erf(%v) = %.17g, want %.17g", dt, c[0], got, c[1])
			}
		}
	}
}

func TestPowScalarCopies(t *testing.T) {
	for _, dt := range dtypes {
		x := FromValues(dt, []float64{1, 2, 3}, 3)
		y := PowScalar(x, 1)
		y.SetFlat(0, 99)
		if x.Flat(0) != 1 {
			t.Errorf("PowScalar(x, 1) shares storage with x")
		}
	}
}
