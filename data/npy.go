package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Array is a decoded NumPy array (little-endian, C order).
//
// Shape is the array shape (empty for a 0-d scalar array). DType is the
// NumPy type descriptor with its byte-order character normalised: one of
// "|b1" (bool), "|u1", "<i4", "<i8", "<f4", "<f8".
//
// Exactly one typed slice holds the NumElems(Shape) values in C (row-major)
// order, chosen by DType:
//
//	|b1, |u1  -> U8  (the stored bytes, unchanged: a bool array may hold
//	                 bytes other than 0 and 1; NumPy reads every non-zero
//	                 byte as True)
//	<i4       -> I32
//	<i8       -> I64
//	<f4       -> F32
//	<f8       -> F64
//
// Len, At and Float64s read any of them as float64.
type Array struct {
	Shape []int
	DType string
	U8    []uint8
	I32   []int32
	I64   []int64
	F32   []float32
	F64   []float64
}

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header length we accept (NumPy itself refuses
// headers over 10,000 bytes unless told otherwise; be a little generous).
const maxNPYHeader = 1 << 20

// Len returns the number of elements.
func (a *Array) Len() int {
	switch a.DType {
	case "|b1", "|u1":
		return len(a.U8)
	case "<i4":
		return len(a.I32)
	case "<i8":
		return len(a.I64)
	case "<f4":
		return len(a.F32)
	case "<f8":
		return len(a.F64)
	}
	return 0
}

// At returns element i (flat, C order) as float64. Bool elements read as 1
// for any non-zero byte, 0 otherwise. It panics when i is out of range, like
// slice indexing.
func (a *Array) At(i int) float64 {
	switch a.DType {
	case "|b1":
		if a.U8[i] != 0 {
			return 1
		}
		return 0
	case "|u1":
		return float64(a.U8[i])
	case "<i4":
		return float64(a.I32[i])
	case "<i8":
		return float64(a.I64[i])
	case "<f4":
		return float64(a.F32[i])
	case "<f8":
		return a.F64[i]
	}
	panic("data: Array.At on array of unknown dtype " + strconv.Quote(a.DType))
}

// Float64s returns a new slice with every element converted as by At.
func (a *Array) Float64s() []float64 {
	out := make([]float64, a.Len())
	for i := range out {
		out[i] = a.At(i)
	}
	return out
}

// npyItemSize returns the element size of a supported, normalised dtype.
func npyItemSize(dt string) int {
	switch dt {
	case "|b1", "|u1":
		return 1
	case "<i4", "<f4":
		return 4
	case "<i8", "<f8":
		return 8
	}
	return 0
}

// normaliseDescr maps a NumPy descr to one of the supported dtypes.
func normaliseDescr(descr string) (string, error) {
	if len(descr) < 2 {
		return "", fmt.Errorf("unsupported dtype %q", descr)
	}
	order, kind := descr[0], descr[1:]
	switch kind {
	case "b1", "u1":
		if order == '|' || order == '<' || order == '>' || order == '=' {
			return "|" + kind, nil
		}
	case "i4", "i8", "f4", "f8":
		switch order {
		case '<':
			return "<" + kind, nil
		case '>':
			return "", fmt.Errorf("unsupported dtype %q: big-endian data", descr)
		}
	}
	return "", fmt.Errorf("unsupported dtype %q (supported: |b1, |u1, <i4, <i8, <f4, <f8)", descr)
}

// ReadNPY decodes one .npy stream (format version 1.0, 2.0 or 3.0). The
// whole stream must be the array: a short or over-long data section is an
// error.
func ReadNPY(r io.Reader) (*Array, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	return decodeNPY(bytes.NewReader(b), int64(len(b)))
}

// LoadNPY reads the .npy file at path.
func LoadNPY(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a, err := decodeNPY(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// ReadNPZ reads a NumPy .npz archive (a zip of .npy members, stored or
// deflated) and returns its arrays keyed by member name without the ".npy"
// suffix (member "images.npy" -> key "images"). Members whose names do not
// end in ".npy" are an error, as are duplicate names.
func ReadNPZ(p string) (map[string]*Array, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("npz %s: %w", p, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("npz %s: %w", p, err)
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("npz %s: %w", p, err)
	}
	return readNPZ(zr, st.Size(), p)
}

// readNPZ decodes the members of an .npz archive of archive bytes; p names
// it in errors.
func readNPZ(zr *zip.Reader, archive int64, p string) (map[string]*Array, error) {
	if len(zr.File) == 0 {
		return nil, fmt.Errorf("npz %s: empty archive", p)
	}
	out := make(map[string]*Array, len(zr.File))
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if !strings.HasSuffix(f.Name, ".npy") {
			return nil, fmt.Errorf("npz %s: member %q is not a .npy file", p, f.Name)
		}
		key := strings.TrimSuffix(f.Name, ".npy")
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("npz %s: duplicate member %q", p, f.Name)
		}
		a, err := readZipNPY(f, archive)
		if err != nil {
			return nil, fmt.Errorf("npz %s: member %q: %w", p, f.Name, err)
		}
		out[key] = a
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("npz %s: no .npy members", p)
	}
	return out, nil
}

// readZipNPY decodes one zip member of an archive of archive bytes,
// streaming it into the final slices.
func readZipNPY(f *zip.File, archive int64) (*Array, error) {
	size := f.UncompressedSize64
	// Refuse sizes the compressed data cannot possibly hold (deflate
	// expands at most ~1032:1; the compressed data lie inside the archive),
	// so a forged header cannot make us allocate terabytes.
	if f.CompressedSize64 > uint64(archive) {
		return nil, fmt.Errorf("zip header claims %d compressed bytes, more than the %d-byte archive holds", f.CompressedSize64, archive)
	}
	if size > math.MaxInt64/2 || (f.Method == zip.Deflate && size/1040 > f.CompressedSize64+1) ||
		(f.Method == zip.Store && size != f.CompressedSize64) {
		return nil, fmt.Errorf("implausible uncompressed size %d for %d compressed bytes", size, f.CompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	a, err := decodeNPY(rc, int64(size))
	if err != nil {
		return nil, err
	}
	// Drain to let archive/zip verify the checksum.
	if n, err := io.Copy(io.Discard, rc); err != nil {
		return nil, err
	} else if n != 0 {
		return nil, fmt.Errorf("shape/data size mismatch: %d bytes after the data", n)
	}
	return a, nil
}

// decodeNPY decodes an .npy stream of exactly size bytes from r.
func decodeNPY(r io.Reader, size int64) (*Array, error) {
	if size == 0 {
		return nil, errors.New("truncated npy preamble: empty file (0 bytes), not an npy file")
	}
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("truncated npy preamble: %w", noEOF(err))
	}
	if string(pre[:6]) != npyMagic {
		return nil, fmt.Errorf("not an npy file (bad magic %q)", pre[:6])
	}
	major, minor := pre[6], pre[7]
	var hlen, pos int64
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("truncated npy header length: %w", noEOF(err))
		}
		hlen, pos = int64(binary.LittleEndian.Uint16(b[:])), 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("truncated npy header length: %w", noEOF(err))
		}
		hlen, pos = int64(binary.LittleEndian.Uint32(b[:])), 12
	default:
		return nil, fmt.Errorf("unsupported npy format version %d.%d", major, minor)
	}
	if minor != 0 {
		return nil, fmt.Errorf("unsupported npy format version %d.%d", major, minor)
	}
	if hlen > maxNPYHeader || pos+hlen > size {
		return nil, fmt.Errorf("truncated npy header: header length %d, file size %d", hlen, size)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("truncated npy header: %w", noEOF(err))
	}
	pos += hlen
	descr, fortran, shape, err := parseNPYHeader(string(hb))
	if err != nil {
		return nil, fmt.Errorf("npy header %q: %w", strings.TrimSpace(string(hb)), err)
	}
	if fortran {
		return nil, errors.New("fortran_order arrays are not supported (save with C order)")
	}
	dt, err := normaliseDescr(descr)
	if err != nil {
		return nil, err
	}
	item := int64(npyItemSize(dt))
	count := int64(1)
	for _, d := range shape {
		if d != 0 && count > (size/item+1)/int64(d) {
			return nil, fmt.Errorf("shape/data size mismatch: shape %v needs more than the %d data bytes present", shape, size-pos)
		}
		count *= int64(d)
	}
	if want, have := count*item, size-pos; want != have {
		if want > have {
			return nil, fmt.Errorf("truncated npy data: shape %v of %s needs %d bytes, have %d", shape, dt, want, have)
		}
		return nil, fmt.Errorf("shape/data size mismatch: shape %v of %s needs %d bytes, have %d", shape, dt, want, have)
	}
	a := &Array{Shape: shape, DType: dt}
	n := int(count)
	if err := readNPYData(r, a, n); err != nil {
		return nil, fmt.Errorf("truncated npy data: %w", noEOF(err))
	}
	return a, nil
}

// npyChunkElems is how many elements readNPYData allocates before the
// data to fill them has arrived. A member of an .npz archive announces its
// size in the (forgeable) zip header, so the slices grow as bytes arrive
// instead of being allocated in one piece from the announced shape.
const npyChunkElems = 1 << 20

// readNPYData fills the typed slice of a with n elements read from r.
func readNPYData(r io.Reader, a *Array, n int) error {
	var err error
	switch a.DType {
	case "|b1", "|u1":
		a.U8, err = readNPYBytes(r, n)
	case "<i4":
		a.I32, err = readNPYElems(r, n, 4, func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) })
	case "<i8":
		a.I64, err = readNPYElems(r, n, 8, func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) })
	case "<f4":
		a.F32, err = readNPYElems(r, n, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
	case "<f8":
		a.F64, err = readNPYElems(r, n, 8, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) })
	default:
		err = fmt.Errorf("unsupported dtype %q", a.DType)
	}
	return err
}

// readNPYBytes reads n bytes, growing the result as they arrive.
func readNPYBytes(r io.Reader, n int) ([]byte, error) {
	out := make([]byte, 0, min(n, npyChunkElems))
	for len(out) < n {
		if len(out) == cap(out) {
			out = slices.Grow(out, min(n-len(out), cap(out)))
		}
		m, err := io.ReadFull(r, out[len(out):min(cap(out), n)])
		out = out[:len(out)+m]
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readNPYElems reads n little-endian elements of item bytes each, growing
// the result (at most doubling it) only as the data arrives.
func readNPYElems[T any](r io.Reader, n, item int, conv func([]byte) T) ([]T, error) {
	out := make([]T, 0, min(n, npyChunkElems))
	buf := make([]byte, 1<<16)
	for len(out) < n {
		k := min(n-len(out), len(buf)/item)
		b := buf[:k*item]
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		if len(out)+k > cap(out) {
			out = slices.Grow(out, min(n-len(out), max(cap(out), k)))
		}
		for i := 0; i < k; i++ {
			out = append(out, conv(b[i*item:]))
		}
	}
	return out, nil
}

// noEOF turns a bare EOF into ErrUnexpectedEOF: inside a file any EOF is
// premature.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseNPYHeader parses the Python dict literal of an .npy header, e.g.
// "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }".
func parseNPYHeader(h string) (descr string, fortran bool, shape []int, err error) {
	p := &pyLit{s: h}
	p.skipSpace()
	if !p.eat('{') {
		return "", false, nil, errors.New("header is not a dict")
	}
	seen := map[string]bool{}
	for {
		p.skipSpace()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return "", false, nil, fmt.Errorf("dict key: %w", err)
		}
		p.skipSpace()
		if !p.eat(':') {
			return "", false, nil, fmt.Errorf("missing ':' after key %q", key)
		}
		p.skipSpace()
		if seen[key] {
			return "", false, nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		switch key {
		case "descr":
			if p.peek() == '[' {
				return "", false, nil, errors.New("unsupported dtype: structured (record) arrays")
			}
			if descr, err = p.str(); err != nil {
				return "", false, nil, fmt.Errorf("descr: %w", err)
			}
		case "fortran_order":
			if fortran, err = p.boolean(); err != nil {
				return "", false, nil, fmt.Errorf("fortran_order: %w", err)
			}
		case "shape":
			if shape, err = p.intTuple(); err != nil {
				return "", false, nil, fmt.Errorf("shape: %w", err)
			}
		default:
			return "", false, nil, fmt.Errorf("unexpected key %q", key)
		}
		p.skipSpace()
		if p.eat(',') {
			continue
		}
		p.skipSpace()
		if !p.eat('}') {
			return "", false, nil, fmt.Errorf("expected ',' or '}' at offset %d", p.i)
		}
		break
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return "", false, nil, fmt.Errorf("trailing characters at offset %d", p.i)
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return "", false, nil, fmt.Errorf("missing key %q", k)
		}
	}
	if shape == nil {
		shape = []int{}
	}
	return descr, fortran, shape, nil
}

// pyLit is a tiny scanner for the Python literals found in .npy headers.
type pyLit struct {
	s string
	i int
}

func (p *pyLit) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pyLit) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *pyLit) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// str reads a quoted string without escapes.
func (p *pyLit) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("expected a quoted string at offset %d", p.i)
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", fmt.Errorf("escaped string %q not supported", v)
	}
	p.i += end + 2
	return v, nil
}

func (p *pyLit) boolean() (bool, error) {
	switch {
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	}
	return false, fmt.Errorf("expected True or False at offset %d", p.i)
}

// intTuple reads "(a, b, ...)" of non-negative ints ("()" and "(a,)" too).
func (p *pyLit) intTuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("expected a tuple at offset %d", p.i)
	}
	dims := []int{}
	for {
		p.skipSpace()
		if p.eat(')') {
			return dims, nil
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if start == p.i {
			return nil, fmt.Errorf("expected a non-negative integer at offset %d", p.i)
		}
		v, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
		if err != nil || v > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %q too large", p.s[start:p.i])
		}
		p.eat('L') // Python 2 long suffix
		dims = append(dims, int(v))
		p.skipSpace()
		if p.eat(',') {
			continue
		}
		p.skipSpace()
		if !p.eat(')') {
			return nil, fmt.Errorf("expected ',' or ')' at offset %d", p.i)
		}
		return dims, nil
	}
}
