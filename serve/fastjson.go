package serve

import (
	"strconv"
)

// A one-pass decoder for the common shape of adapt and predict requests:
// an object with the documented lower-case keys, plain strings, integer
// steps and labels, and inputs given as flat arrays of numbers, which it
// parses into float32 values on the way (the general path scans such a
// body three times: for the value's end, into the struct, and per input).
// It accepts only what encoding/json accepts and gives the same result;
// on anything else — another key spelling, a duplicate key, null, escapes
// or non-ASCII in strings, a PNG or nested input, a number out of range,
// invalid JSON — it reports false, and the general decoder (with its
// error messages) takes the body. FuzzFastDecode checks the agreement.
// With limits (bodyscan.go) it stops at the first example, input or value
// past them and reports that as an error (no fallback: the general
// decoder would only refuse the same body more slowly).

// fastParser scans one request body.
type fastParser struct {
	b   []byte
	i   int
	lim *bodyLimits // nil: no limits (parseFlat)
	err error       // a limit was hit
}

// over records that an array passed its limit (0: none).
func (p *fastParser) over(n, limit int, field, what string) bool {
	if p.lim == nil || limit <= 0 || n < limit {
		return false
	}
	p.err = tooMany(field, limit, what)
	return true
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (p *fastParser) peek() byte {
	p.ws()
	if p.i >= len(p.b) {
		return 0
	}
	return p.b[p.i]
}

func (p *fastParser) eat(c byte) bool {
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

// str reads a string of printable ASCII without escapes.
func (p *fastParser) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := string(p.b[start:p.i])
			p.i++
			return s, true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return "", false
		}
		p.i++
	}
	return "", false
}

// number returns the next JSON number's text (strict JSON grammar) and
// whether it is an integer (no fraction or exponent).
func (p *fastParser) number() (text []byte, integer bool, ok bool) {
	p.ws()
	b, i := p.b, p.i
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return nil, false, false
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return nil, false, false
		}
		integer = false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil, false, false
		}
		integer = false
	}
	text, p.i = b[p.i:i], i
	return text, integer, true
}

func (p *fastParser) int() (int, bool) {
	t, integer, ok := p.number()
	if !ok || !integer || len(t) > 18 {
		return 0, false
	}
	v, err := strconv.Atoi(unsafeString(t))
	return v, err == nil
}

func (p *fastParser) float(bits int) (float64, bool) {
	t, _, ok := p.number()
	if !ok {
		return 0, false
	}
	if v, ok := shortFloat(t, bits); ok {
		return v, true
	}
	v, err := strconv.ParseFloat(unsafeString(t), bits)
	return v, err == nil
}

// pow10s are the powers of ten exact in float32 (to 1e10) and float64 (to
// 1e22).
var (
	pow10f32 = [...]float32{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}
	pow10f64 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}
)

// shortFloat converts a JSON number token exactly as strconv.ParseFloat(t,
// bits) does when that is easy: the decimal significand m fits the
// float's mantissa (2^24 or 2^53) and 10^|e| is exact in it (e <= 10 or
// 22), so m*10^e or m/10^e is one correctly rounded operation (Clinger's
// fast path). Integers such as "0" (most pixels) take it. Anything else
// reports false and goes to strconv.
func shortFloat(t []byte, bits int) (float64, bool) {
	i, neg := 0, false
	if i < len(t) && t[i] == '-' {
		neg, i = true, i+1
	}
	var m uint64
	exp, digits := 0, 0
	for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
		if m == 0 && t[i] == '0' {
			continue
		}
		m, digits = m*10+uint64(t[i]-'0'), digits+1
		if digits > 16 {
			return 0, false
		}
	}
	if i < len(t) && t[i] == '.' {
		for i++; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			exp--
			if m == 0 && t[i] == '0' {
				continue
			}
			m, digits = m*10+uint64(t[i]-'0'), digits+1
			if digits > 16 {
				return 0, false
			}
		}
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		eneg := false
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			eneg, i = t[i] == '-', i+1
		}
		e := 0
		for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			if e = e*10 + int(t[i]-'0'); e > 1000 {
				return 0, false
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(t) {
		return 0, false
	}
	var v float64
	switch {
	case m == 0:
		v = 0
	case bits == 32 && m < 1<<24 && exp >= -10 && exp <= 10:
		f := float32(m)
		if exp < 0 {
			f /= pow10f32[-exp]
		} else {
			f *= pow10f32[exp]
		}
		v = float64(f)
	case bits == 64 && m < 1<<53 && exp >= -22 && exp <= 22:
		v = float64(m)
		if exp < 0 {
			v /= pow10f64[-exp]
		} else {
			v *= pow10f64[exp]
		}
	default:
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// array calls elem for each element of a JSON array.
func (p *fastParser) array(elem func() bool) bool {
	if !p.eat('[') {
		return false
	}
	if p.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if p.eat(']') {
			return true
		}
		if !p.eat(',') {
			return false
		}
	}
}

// object calls field for each key of a JSON object, refusing duplicates.
func (p *fastParser) object(field func(key string) bool) bool {
	if !p.eat('{') {
		return false
	}
	if p.eat('}') {
		return true
	}
	var seen []string
	for {
		key, ok := p.str()
		if !ok || !p.eat(':') {
			return false
		}
		for _, k := range seen {
			if k == key {
				return false
			}
		}
		seen = append(seen, key)
		if !field(key) {
			return false
		}
		if p.eat('}') {
			return true
		}
		if !p.eat(',') {
			return false
		}
	}
}

// flat reads a non-empty array of numbers as float32 values (sizeHint:
// the expected count, for the allocation).
func (p *fastParser) flat(sizeHint int, field string) ([]float32, bool) {
	v := make([]float32, 0, sizeHint)
	ok := p.array(func() bool {
		if p.lim != nil && p.over(len(v), p.lim.perInput, field, "values in one input") {
			return false
		}
		f, ok := p.float(32)
		v = append(v, float32(f))
		return ok
	})
	return v, ok && len(v) > 0
}

// inputs reads an array of flat number arrays: the raw text of each (as
// the general decoder would keep it) and its float32 values.
func (p *fastParser) inputs(field string, limit int, what string) (raw []Input, vals [][]float32, ok bool) {
	raw = []Input{}
	ok = p.array(func() bool {
		if p.over(len(raw), limit, field, what) {
			return false
		}
		p.ws()
		start := p.i
		if p.peek() != '[' {
			return false
		}
		v, ok := p.flat(0, "")
		if !ok {
			if p.err != nil { // name the input
				p.err = tooMany(field+"["+strconv.Itoa(len(raw))+"]", p.lim.perInput, "values in one input")
			}
			return false
		}
		raw = append(raw, Input(p.b[start:p.i]))
		vals = append(vals, v)
		return true
	})
	return raw, vals, ok
}

func (p *fastParser) support(s *Support) bool {
	limit := 0
	if p.lim != nil {
		limit = p.lim.support
	}
	return p.object(func(key string) bool {
		ok := true
		switch key {
		case "inputs":
			s.Inputs, s.parsed, ok = p.inputs("support.inputs", limit, "examples")
		case "labels":
			s.Labels = []int{}
			ok = p.array(func() bool {
				if p.over(len(s.Labels), limit, "support.labels", "examples") {
					return false
				}
				v, ok := p.int()
				s.Labels = append(s.Labels, v)
				return ok
			})
		case "targets":
			s.Targets = []float64{}
			ok = p.array(func() bool {
				if p.over(len(s.Targets), limit, "support.targets", "examples") {
					return false
				}
				v, ok := p.float(64)
				s.Targets = append(s.Targets, v)
				return ok
			})
		default:
			return false
		}
		return ok
	})
}

// common reads the keys both requests share.
func (p *fastParser) common(key string, model *string, sup **Support, steps **int, lr **float64) (handled, ok bool) {
	switch key {
	case "model":
		*model, ok = p.str()
	case "support":
		*sup = new(Support)
		ok = p.support(*sup)
	case "steps":
		v, good := p.int()
		*steps, ok = &v, good
	case "learning_rate":
		v, good := p.float(64)
		*lr, ok = &v, good
	default:
		return false, false
	}
	return true, ok
}

func (p *fastParser) end() bool {
	p.ws()
	return p.i == len(p.b)
}

// fastDecodeAdapt decodes body into req on the fast path.
func fastDecodeAdapt(body []byte, req *AdaptRequest) bool {
	ok, _ := fastDecodeAdaptLimited(body, req, nil)
	return ok
}

// fastDecodeAdaptLimited is fastDecodeAdapt within lim: a body past them
// is an error (413), not a fallback.
func fastDecodeAdaptLimited(body []byte, req *AdaptRequest, lim *bodyLimits) (bool, error) {
	p := &fastParser{b: body, lim: lim}
	var sup *Support
	ok := p.object(func(key string) bool {
		_, ok := p.common(key, &req.Model, &sup, &req.Steps, &req.LearningRate)
		return ok
	})
	if sup != nil {
		req.Support = *sup
	}
	return ok && p.end(), p.err
}

// fastDecodePredict decodes body into req on the fast path.
func fastDecodePredict(body []byte, req *PredictRequest) bool {
	ok, _ := fastDecodePredictLimited(body, req, nil)
	return ok
}

// fastDecodePredictLimited is fastDecodePredict within lim.
func fastDecodePredictLimited(body []byte, req *PredictRequest, lim *bodyLimits) (bool, error) {
	p := &fastParser{b: body, lim: lim}
	ok := p.object(func(key string) bool {
		switch key {
		case "id":
			var ok bool
			req.ID, ok = p.str()
			return ok
		case "inputs":
			var ok bool
			limit := 0
			if lim != nil {
				limit = lim.queries
			}
			req.Inputs, req.parsed, ok = p.inputs("inputs", limit, "inputs")
			return ok
		}
		_, ok := p.common(key, &req.Model, &req.Support, &req.Steps, &req.LearningRate)
		return ok
	})
	return ok && p.end(), p.err
}
