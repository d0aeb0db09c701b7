package tensor

import (
	"fmt"
	"math"
	"unsafe"
)

// BroadcastShapes returns the shape two operands broadcast to (NumPy rules),
// or an error when they are incompatible.
func BroadcastShapes(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

type binOp uint8

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opPow
	opMax
	opMin
	opGT
	opGE
	opLT
	opLE
	opEQ
	opLeft // a (b only shapes the result): broadcasting copy
)

var binNames = [...]string{"Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Greater", "GreaterEqual", "Less", "LessEqual", "Equal", "BroadcastTo"}

// Add returns a+b with broadcasting.
func Add(a, b *Tensor) *Tensor { return binary(opAdd, a, b) }

// Sub returns a-b with broadcasting.
func Sub(a, b *Tensor) *Tensor { return binary(opSub, a, b) }

// Mul returns a*b with broadcasting.
func Mul(a, b *Tensor) *Tensor { return binary(opMul, a, b) }

// Div returns a/b with broadcasting.
func Div(a, b *Tensor) *Tensor { return binary(opDiv, a, b) }

// Pow returns a**b elementwise with broadcasting.
func Pow(a, b *Tensor) *Tensor { return binary(opPow, a, b) }

// Maximum returns the elementwise maximum with broadcasting.
func Maximum(a, b *Tensor) *Tensor { return binary(opMax, a, b) }

// Minimum returns the elementwise minimum with broadcasting.
func Minimum(a, b *Tensor) *Tensor { return binary(opMin, a, b) }

// Greater returns 1 where a > b and 0 elsewhere.
func Greater(a, b *Tensor) *Tensor { return binary(opGT, a, b) }

// GreaterEqual returns 1 where a >= b and 0 elsewhere.
func GreaterEqual(a, b *Tensor) *Tensor { return binary(opGE, a, b) }

// Less returns 1 where a < b and 0 elsewhere.
func Less(a, b *Tensor) *Tensor { return binary(opLT, a, b) }

// LessEqual returns 1 where a <= b and 0 elsewhere.
func LessEqual(a, b *Tensor) *Tensor { return binary(opLE, a, b) }

// Equal returns 1 where a == b and 0 elsewhere.
func Equal(a, b *Tensor) *Tensor { return binary(opEQ, a, b) }

// bcastPlan describes a broadcast iteration after merging dimensions: the
// output is walked as outer dims (shape/sa/sb strides) times a contiguous
// inner run of length inner with per-operand inner strides 0 or 1.
type bcastPlan struct {
	shape  []int // outer dims
	sa, sb []int // outer strides of a and b
	inner  int
	ia, ib int // inner strides (0 or 1)
	n      int
}

func planBroadcast(out, as, bs []int) bcastPlan {
	if total := NumElems(out); total > 0 && SameShape(out, as) {
		// the common cases, without planning: same shapes, or no b
		switch {
		case bs == nil:
			return bcastPlan{inner: total, n: total, ia: 1}
		case SameShape(out, bs):
			return bcastPlan{inner: total, n: total, ia: 1, ib: 1}
		}
	}
	n := len(out)
	// strides of a and b aligned to out, 0 for broadcast dims
	sa := make([]int, n)
	sb := make([]int, n)
	st := 1
	for i := len(as) - 1; i >= 0; i-- {
		j := n - len(as) + i
		if as[i] != 1 {
			sa[j] = st
		}
		st *= as[i]
	}
	st = 1
	for i := len(bs) - 1; i >= 0; i-- {
		j := n - len(bs) + i
		if bs[i] != 1 {
			sb[j] = st
		}
		st *= bs[i]
	}
	// merge adjacent dims that are jointly contiguous
	var shp, msa, msb []int
	for i := 0; i < n; i++ {
		if out[i] == 1 {
			continue
		}
		if k := len(shp) - 1; k >= 0 && msa[k] == sa[i]*out[i] && msb[k] == sb[i]*out[i] {
			shp[k] *= out[i]
			msa[k] = sa[i]
			msb[k] = sb[i]
			continue
		}
		shp = append(shp, out[i])
		msa = append(msa, sa[i])
		msb = append(msb, sb[i])
	}
	p := bcastPlan{inner: 1, n: NumElems(out)}
	if k := len(shp) - 1; k >= 0 && (msa[k] <= 1) && (msb[k] <= 1) {
		p.inner, p.ia, p.ib = shp[k], msa[k], msb[k]
		shp, msa, msb = shp[:k], msa[:k], msb[:k]
	}
	p.shape, p.sa, p.sb = shp, msa, msb
	return p
}

func binary(op binOp, a, b *Tensor) *Tensor {
	mustSameDType(binNames[op], a, b)
	var shape []int
	if SameShape(a.shape, b.shape) {
		shape = a.shape
	} else {
		s, err := BroadcastShapes(a.shape, b.shape)
		if err != nil {
			panic(fmt.Sprintf("tensor: %s: %v", binNames[op], err))
		}
		shape = s
	}
	out := newDirty(a.dtype, shape...) // binaryRun writes every element
	p := planBroadcast(shape, a.shape, b.shape)
	if a.dtype == Float32 {
		binaryRun(op, p, a.f32, b.f32, out.f32)
	} else {
		binaryRun(op, p, a.f64, b.f64, out.f64)
	}
	return out
}

func binaryRun[T Float](op binOp, p bcastPlan, a, b, out []T) {
	rows := p.n / max(p.inner, 1)
	if p.n == 0 {
		return
	}
	if rows == 1 { // one contiguous run
		if p.n < minParallelWork || maxWorkers == 1 {
			binaryInner(op, out[:p.inner], a, b, p.ia, p.ib)
			return
		}
		parallelFor(p.n, p.n, func(lo, hi int) {
			binaryInner(op, out[lo:hi], a[lo*p.ia:], b[lo*p.ib:], p.ia, p.ib)
		})
		return
	}
	if len(p.shape) == 1 && p.ia == 1 && p.ib == 1 && p.inner < rowRepeatMax {
		switch {
		case p.sa[0] == p.inner && p.sb[0] == 0: // b is one row, repeated
			binaryRowRepeat(op, rows, p.inner, a, b, out, false)
			return
		case p.sa[0] == 0 && p.sb[0] == p.inner: // a is one row, repeated
			binaryRowRepeat(op, rows, p.inner, b, a, out, true)
			return
		}
	}
	parallelFor(rows, p.n, func(lo, hi int) {
		idx := make([]int, len(p.shape))
		// initialise the multi-index for row lo
		r := lo
		for d := len(p.shape) - 1; d >= 0; d-- {
			idx[d] = r % p.shape[d]
			r /= p.shape[d]
		}
		for row := lo; row < hi; row++ {
			oa, ob := 0, 0
			for d, x := range idx {
				oa += x * p.sa[d]
				ob += x * p.sb[d]
			}
			o := out[row*p.inner : (row+1)*p.inner]
			binaryInner(op, o, a[oa:], b[ob:], p.ia, p.ib)
			for d := len(idx) - 1; d >= 0; d-- {
				idx[d]++
				if idx[d] < p.shape[d] {
					break
				}
				idx[d] = 0
			}
		}
	})
}

func b2f[T Float](c bool) T {
	if c {
		return 1
	}
	return 0
}

// binaryInner applies op on a contiguous run; ia/ib are 0 (scalar operand) or 1.
// rowRepeatMax is the longest row binaryRowRepeat takes: longer rows are
// cheap to run one at a time.
const rowRepeatMax = 256

// binaryRowRepeat computes out = m op row (or row op m when swapped) for m
// [rows, inner] and a row of inner values repeated down m — a bias added
// to a batch. Short rows one call at a time would spend more on the calls
// than on the arithmetic, so the row is first repeated into a block of
// about 1024 values and the matrix is processed a block at a time with the
// same-shape loop (identical arithmetic, element by element).
func binaryRowRepeat[T Float](op binOp, rows, inner int, m, row, out []T, swapped bool) {
	per := max(1, 1024/inner) // rows per block
	bp := getScratch[T](per * inner)
	defer putScratch(bp)
	blk := *bp
	copy(blk, row[:inner])
	for f := inner; f < len(blk); f *= 2 {
		copy(blk[f:], blk[:f])
	}
	parallelFor((rows+per-1)/per, rows*inner, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			r0, r1 := c*per*inner, min((c+1)*per, rows)*inner
			if swapped {
				binaryInner(op, out[r0:r1], blk, m[r0:r1], 1, 1)
			} else {
				binaryInner(op, out[r0:r1], m[r0:r1], blk, 1, 1)
			}
		}
	})
}

func binaryInner[T Float](op binOp, o, a, b []T, ia, ib int) {
	n := len(o)
	if op == opLeft {
		if ia == 1 {
			copy(o, a[:n])
		} else {
			fill(o, a[0])
		}
		return
	}
	switch {
	case ia == 1 && ib == 1:
		a, b = a[:n], b[:n]
		switch op {
		case opAdd:
			if n >= 32 && vecAdd[unsafe.Sizeof(T(0))/8] != nil {
				// the assembly vector add, in place: o = a, then o += b
				// (or o += a when o is b)
				if &o[0] == &b[0] {
					addTo(o, a)
				} else {
					copy(o, a)
					addTo(o, b)
				}
				break
			}
			for i := range o {
				o[i] = a[i] + b[i]
			}
		case opSub:
			for i := range o {
				o[i] = a[i] - b[i]
			}
		case opMul:
			for i := range o {
				o[i] = a[i] * b[i]
			}
		case opDiv:
			for i := range o {
				o[i] = a[i] / b[i]
			}
		default:
			for i := range o {
				o[i] = scalarOp(op, a[i], b[i])
			}
		}
	case ia == 1 && ib == 0:
		a = a[:n]
		y := b[0]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = a[i] + y
			}
		case opSub:
			for i := range o {
				o[i] = a[i] - y
			}
		case opMul:
			for i := range o {
				o[i] = a[i] * y
			}
		case opDiv:
			for i := range o {
				o[i] = a[i] / y
			}
		default:
			for i := range o {
				o[i] = scalarOp(op, a[i], y)
			}
		}
	case ia == 0 && ib == 1:
		b = b[:n]
		x := a[0]
		switch op {
		case opAdd:
			for i := range o {
				o[i] = x + b[i]
			}
		case opSub:
			for i := range o {
				o[i] = x - b[i]
			}
		case opMul:
			for i := range o {
				o[i] = x * b[i]
			}
		default:
			for i := range o {
				o[i] = scalarOp(op, x, b[i])
			}
		}
	default:
		v := scalarOp(op, a[0], b[0])
		for i := range o {
			o[i] = v
		}
	}
}

func scalarOp[T Float](op binOp, x, y T) T {
	switch op {
	case opAdd:
		return x + y
	case opSub:
		return x - y
	case opMul:
		return x * y
	case opDiv:
		return x / y
	case opPow:
		return T(math.Pow(float64(x), float64(y)))
	case opMax:
		if x >= y || x != x {
			return x
		}
		return y
	case opMin:
		if x <= y || x != x {
			return x
		}
		return y
	case opGT:
		return b2f[T](x > y)
	case opGE:
		return b2f[T](x >= y)
	case opLT:
		return b2f[T](x < y)
	case opLE:
		return b2f[T](x <= y)
	case opEQ:
		return b2f[T](x == y)
	case opLeft:
		return x
	}
	panic("unreachable")
}

// Where returns a where cond != 0 and b elsewhere; the three broadcast.
func Where(cond, a, b *Tensor) *Tensor {
	// where = b + cond*(a-b) would lose exactness with inf; do it directly.
	mustSameDType("Where", cond, a, b)
	s, err := BroadcastShapes(a.shape, b.shape)
	if err == nil {
		s, err = BroadcastShapes(s, cond.shape)
	}
	if err != nil {
		panic(fmt.Sprintf("tensor: Where: cond %v, a %v, b %v: %v", cond.shape, a.shape, b.shape, err))
	}
	c, x, y := BroadcastTo(cond, s), BroadcastTo(a, s), BroadcastTo(b, s)
	out := New(a.dtype, s...)
	for i := 0; i < out.Len(); i++ {
		if c.Flat(i) != 0 {
			out.SetFlat(i, x.Flat(i))
		} else {
			out.SetFlat(i, y.Flat(i))
		}
	}
	return out
}

// BroadcastTo expands t to shape (NumPy rules); t itself when already there.
func BroadcastTo(t *Tensor, shape []int) *Tensor {
	if SameShape(t.shape, shape) {
		return t
	}
	s, err := BroadcastShapes(t.shape, shape)
	if err != nil || !SameShape(s, shape) {
		panic(fmt.Sprintf("tensor: BroadcastTo: cannot broadcast %v to %v", t.shape, shape))
	}
	// one allocation: the result (b is a scalar that only fixes the plan)
	mustSameDType("BroadcastTo", t)
	out := New(t.dtype, shape...)
	p := planBroadcast(shape, t.shape, nil)
	if t.dtype == Float32 {
		binaryRun(opLeft, p, t.f32, []float32{0}, out.f32)
	} else {
		binaryRun(opLeft, p, t.f64, []float64{0}, out.f64)
	}
	return out
}

// ReluBackward returns g where y > 0 and 0 elsewhere (same shapes): the
// gradient of a ReLU given its output y (or its input), in one pass.
func ReluBackward(g, y *Tensor) *Tensor {
	mustSameDType("ReluBackward", g, y)
	if !SameShape(g.shape, y.shape) {
		panic(fmt.Sprintf("tensor: ReluBackward: gradient %v for output %v", g.shape, y.shape))
	}
	out := New(g.dtype, g.shape...)
	if g.dtype == Float32 {
		reluBackwardRun(g.f32, y.f32, out.f32)
	} else {
		reluBackwardRun(g.f64, y.f64, out.f64)
	}
	return out
}

func reluBackwardRun[T Float](g, y, o []T) {
	parallelFor(len(g), len(g), func(lo, hi int) {
		maskPositive(g[lo:hi], y[lo:hi], o[lo:hi])
	})
}

type unOp uint8

const (
	uNeg unOp = iota
	uExp
	uLog
	uSqrt
	uAbs
	uSign
	uTanh
	uSigmoid
	uRelu
	uStep // 1 where x > 0
	uErf
	uSoftplus
	uSquare
	uRecip
	uLog1p
	uSin
	uCos
)

func unary(op unOp, t *Tensor) *Tensor {
	out := newDirty(t.dtype, t.shape...) // unaryRun writes every element
	if t.dtype == Float32 {
		unaryRun(op, t.f32, out.f32)
	} else {
		unaryRun(op, t.f64, out.f64)
	}
	return out
}

func unaryRun[T Float](op unOp, x, o []T) {
	cost := len(x)
	if op != uNeg && op != uAbs && op != uRelu && op != uStep && op != uSquare && op != uSign {
		cost *= 16
	}
	if cost < minParallelWork || maxWorkers == 1 {
		unaryInner(op, x, o) // no closure for small work
		return
	}
	parallelFor(len(x), cost, func(lo, hi int) {
		unaryInner(op, x[lo:hi], o[lo:hi])
	})
}

func unaryInner[T Float](op unOp, x, o []T) {
	o = o[:len(x)]
	switch op {
	case uNeg:
		for i, v := range x {
			o[i] = -v
		}
	case uExp:
		for i, v := range x {
			o[i] = T(math.Exp(float64(v)))
		}
	case uLog:
		for i, v := range x {
			o[i] = T(math.Log(float64(v)))
		}
	case uSqrt:
		for i, v := range x {
			o[i] = T(math.Sqrt(float64(v)))
		}
	case uAbs:
		for i, v := range x {
			if v < 0 {
				v = -v
			}
			o[i] = v
		}
	case uSign:
		for i, v := range x {
			switch {
			case v > 0:
				o[i] = 1
			case v < 0:
				o[i] = -1
			default:
				o[i] = 0
			}
		}
	case uTanh:
		for i, v := range x {
			o[i] = T(math.Tanh(float64(v)))
		}
	case uSigmoid:
		if f, g := asF32(x), asF32(o); f != nil && useAVX512Exp && len(f) >= 16 {
			n := len(f) &^ 15
			sigmoidF32AVX512(&g[0], &f[0], n)
			x, o = x[n:], o[n:]
		}
		// 1/(1+e^-f) for f >= 0 and e^f/(1+e^f) below: with e = e^-|f|
		// the two differ only in the numerator (1 or e), selected by a bit
		// mask — a branch on the sign would mispredict half the time
		for i, v := range x {
			f := float64(v)
			e := math.Exp(-math.Abs(f))
			m := -b2u(f >= 0)
			num := math.Float64frombits(math.Float64bits(e)&^m | math.Float64bits(1)&m)
			o[i] = T(num / (1 + e))
		}
	case uRelu:
		reluInto(x, o)
	case uStep:
		for i, v := range x {
			if v > 0 {
				o[i] = 1
			} else {
				o[i] = 0
			}
		}
	case uErf:
		for i, v := range x {
			o[i] = T(math.Erf(float64(v)))
		}
	case uSoftplus:
		for i, v := range x {
			f := float64(v)
			o[i] = T(math.Max(f, 0) + math.Log1p(math.Exp(-math.Abs(f))))
		}
	case uSquare:
		for i, v := range x {
			o[i] = v * v
		}
	case uRecip:
		for i, v := range x {
			o[i] = 1 / v
		}
	case uLog1p:
		for i, v := range x {
			o[i] = T(math.Log1p(float64(v)))
		}
	case uSin:
		for i, v := range x {
			o[i] = T(math.Sin(float64(v)))
		}
	case uCos:
		for i, v := range x {
			o[i] = T(math.Cos(float64(v)))
		}
	}
}

func Neg(t *Tensor) *Tensor      { return unary(uNeg, t) }
func Exp(t *Tensor) *Tensor      { return unary(uExp, t) }
func Log(t *Tensor) *Tensor      { return unary(uLog, t) }
func Log1p(t *Tensor) *Tensor    { return unary(uLog1p, t) }
func Sqrt(t *Tensor) *Tensor     { return unary(uSqrt, t) }
func Abs(t *Tensor) *Tensor      { return unary(uAbs, t) }
func Sign(t *Tensor) *Tensor     { return unary(uSign, t) }
func Tanh(t *Tensor) *Tensor     { return unary(uTanh, t) }
func Sigmoid(t *Tensor) *Tensor  { return unary(uSigmoid, t) }
func Relu(t *Tensor) *Tensor     { return unary(uRelu, t) }
func Erf(t *Tensor) *Tensor      { return unary(uErf, t) }
func Softplus(t *Tensor) *Tensor { return unary(uSoftplus, t) }
func Square(t *Tensor) *Tensor   { return unary(uSquare, t) }
func Recip(t *Tensor) *Tensor    { return unary(uRecip, t) }
func Sin(t *Tensor) *Tensor      { return unary(uSin, t) }
func Cos(t *Tensor) *Tensor      { return unary(uCos, t) }

// Positive returns 1 where t > 0 and 0 elsewhere (the derivative mask of ReLU).
func Positive(t *Tensor) *Tensor { return unary(uStep, t) }

// Scale returns s*t.
func Scale(t *Tensor, s float64) *Tensor {
	out := New(t.dtype, t.shape...)
	if t.dtype == Float32 {
		scaleInto(out.f32, t.f32, float32(s))
	} else {
		scaleInto(out.f64, t.f64, s)
	}
	return out
}

func scaleInto[T Float](o, x []T, s T) {
	o = o[:len(x)]
	for i, v := range x {
		o[i] = v * s
	}
}

// AddScalar returns t+s.
func AddScalar(t *Tensor, s float64) *Tensor { return Add(t, Scalar(t.dtype, s)) }

// PowScalar returns t**p.
func PowScalar(t *Tensor, p float64) *Tensor {
	switch p {
	case 1:
		return t.Clone()
	case 2:
		return Square(t)
	case 0.5:
		return Sqrt(t)
	case -1:
		return Recip(t)
	}
	return Pow(t, Scalar(t.dtype, p))
}

// LeakyRelu returns x for x > 0 and slope*x elsewhere.
func LeakyRelu(t *Tensor, slope float64) *Tensor {
	out := New(t.dtype, t.shape...)
	for i := 0; i < t.Len(); i++ {
		v := t.Flat(i)
		if v <= 0 {
			v *= slope
		}
		out.SetFlat(i, v)
	}
	return out
}

// AddScaledInPlace performs t += s*x (same shape), the axpy of optimizers.
func (t *Tensor) AddScaledInPlace(s float64, x *Tensor) {
	mustSameDType("AddScaledInPlace", t, x)
	if t.Len() != x.Len() {
		panic(fmt.Sprintf("tensor: AddScaledInPlace: shape %v vs %v", t.shape, x.shape))
	}
	if t.dtype == Float32 {
		axpy(t.f32, x.f32, float32(s))
	} else {
		axpy(t.f64, x.f64, s)
	}
}

func axpy[T Float](y, x []T, a T) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// ScaleInPlace performs t *= s.
func (t *Tensor) ScaleInPlace(s float64) {
	if t.dtype == Float32 {
		scaleInto(t.f32, t.f32, float32(s))
	} else {
		scaleInto(t.f64, t.f64, s)
	}
}

// HasNaNOrInf reports whether any element is NaN or infinite.
func (t *Tensor) HasNaNOrInf() bool {
	for i := 0; i < t.Len(); i++ {
		v := t.Flat(i)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return true
		}
	}
	return false
}
