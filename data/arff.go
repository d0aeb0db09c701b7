package data

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/metalearn/metalearn/tensor"
)

// ARFFAttribute is one @attribute declaration of an ARFF file.
type ARFFAttribute struct {
	// Name is the attribute name with its quotes removed ('a b' -> a b).
	Name string
	// Type is the declared type in lower case: "numeric", "real",
	// "integer" or, for a {v1,v2,...} declaration, "nominal".
	Type string
	// Values lists a nominal attribute's values in declaration order; a
	// cell holding Values[k] is stored as the number k. Nil for numeric
	// attributes.
	Values []string
}

// IsNominal reports whether the attribute was declared as {v1,v2,...}.
func (a ARFFAttribute) IsNominal() bool { return a.Type == "nominal" }

// ARFF is a parsed ARFF file whose attributes are all numeric or nominal.
//
// Rows[i][j] is the value of attribute j in data row i: the number itself
// for numeric attributes, the value's index in Attributes[j].Values for
// nominal ones. A missing value ("?") is stored as NaN and flagged in
// Missing[i][j]; every other stored value is finite, so Missing[i][j] is
// true exactly when Rows[i][j] is NaN. Missing has the shape of Rows.
type ARFF struct {
	Relation   string
	Attributes []ARFFAttribute
	Rows       [][]float64
	Missing    [][]bool
}

// ReadARFF reads an ARFF file (Weka's Attribute-Relation File Format) as
// used by the Mulan multi-target regression collection. See ParseARFF for
// the subset of the format that is accepted.
func ReadARFF(path string) (*ARFF, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return ParseARFF(f, path)
}

// ParseARFF parses ARFF text from r; name (usually the file path) prefixes
// every error message, together with the line number.
//
// Accepted: '%' comments (whole lines, or the rest of a line outside
// quotes); blank lines; case-insensitive @relation, @attribute and @data;
// names quoted with '...' or "..." (backslash escapes the next character
// inside quotes) or bare; attribute types numeric, real, integer and
// nominal {v1, v2, ...}; dense data rows of comma-separated values, one per
// attribute, with optional spaces around the commas and optional quotes;
// sparse data rows {index value, ...} with 0-based indices, where omitted
// attributes are 0 (for a nominal attribute: its first value, as in Weka);
// missing values written as an unquoted '?'.
//
// Errors, each naming the file and line (and the attribute where one is
// involved): an unsupported attribute type (string, date, relational), an
// unknown keyword or stray text in the header, a duplicate attribute name
// or nominal value, no @data section, a row with the wrong number of
// values, a numeric cell that is not a finite number, a nominal cell that
// is not one of the declared values, a bad sparse index, instance weights.
// Malformed input never causes a panic.
func ParseARFF(r io.Reader, name string) (*ARFF, error) {
	p := &arffParser{name: name, a: &ARFF{}, index: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxTextLine)), maxTextLine)
	inData := false
	for sc.Scan() {
		p.line++
		text := sc.Text()
		if p.line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		text = strings.TrimSpace(stripARFFComment(text))
		if text == "" {
			continue
		}
		var err error
		if inData {
			err = p.dataRow(text)
		} else {
			inData, err = p.headerLine(text)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: %s:%d: %w", name, p.line+1, lineError(err))
	}
	if !inData {
		return nil, fmt.Errorf("data: %s: no @data section (%d attributes declared)", name, len(p.a.Attributes))
	}
	return p.a, nil
}

type arffParser struct {
	name  string
	line  int
	a     *ARFF
	index map[string]int // attribute name -> position, to reject duplicates
}

func (p *arffParser) errorf(format string, args ...any) error {
	return fmt.Errorf("data: %s:%d: %s", p.name, p.line, fmt.Sprintf(format, args...))
}

// headerLine handles one non-blank line before @data; it reports whether
// the line was @data.
func (p *arffParser) headerLine(text string) (bool, error) {
	if text[0] != '@' {
		return false, p.errorf("unexpected text before @data: %q", arffClip(text))
	}
	kw, rest := text, ""
	if i := strings.IndexAny(text, " \t"); i >= 0 {
		kw, rest = text[:i], strings.TrimSpace(text[i+1:])
	}
	switch strings.ToLower(kw) {
	case "@relation":
		name, tail, err := arffToken(rest)
		if err != nil {
			return false, p.errorf("@relation: %v", err)
		}
		if name == "" {
			return false, p.errorf("@relation without a name")
		}
		if strings.TrimSpace(tail) != "" {
			return false, p.errorf("@relation: unexpected text %q after the name", arffClip(tail))
		}
		p.a.Relation = name
		return false, nil
	case "@attribute":
		return false, p.attribute(rest)
	case "@data":
		if rest != "" {
			return false, p.errorf("unexpected text %q after @data", arffClip(rest))
		}
		if len(p.a.Attributes) == 0 {
			return false, p.errorf("@data before any @attribute")
		}
		return true, nil
	}
	return false, p.errorf("unknown keyword %q (want @relation, @attribute or @data)", arffClip(kw))
}

func (p *arffParser) attribute(rest string) error {
	name, tail, err := arffToken(rest)
	if err != nil {
		return p.errorf("@attribute: %v", err)
	}
	if name == "" {
		return p.errorf("@attribute without a name")
	}
	tail = strings.TrimSpace(tail)
	attr := ARFFAttribute{Name: name}
	switch {
	case tail == "":
		return p.errorf("attribute %q has no type", name)
	case tail[0] == '{':
		if tail[len(tail)-1] != '}' {
			return p.errorf("attribute %q: nominal value list %q does not end with '}'", name, arffClip(tail))
		}
		cells, err := splitARFFCells(tail[1 : len(tail)-1])
		if err != nil {
			return p.errorf("attribute %q: %v", name, err)
		}
		seen := map[string]bool{}
		for _, c := range cells {
			if c.text == "" && !c.quoted {
				return p.errorf("attribute %q: empty nominal value in %q", name, arffClip(tail))
			}
			if seen[c.text] {
				return p.errorf("attribute %q: nominal value %q declared twice", name, c.text)
			}
			seen[c.text] = true
			attr.Values = append(attr.Values, c.text)
		}
		attr.Type = "nominal"
	default:
		typ, after := tail, ""
		if i := strings.IndexAny(tail, " \t"); i >= 0 {
			typ, after = tail[:i], strings.TrimSpace(tail[i+1:])
		}
		switch t := strings.ToLower(typ); t {
		case "numeric", "real", "integer":
			if after != "" {
				return p.errorf("attribute %q: unexpected text %q after type %s", name, arffClip(after), typ)
			}
			attr.Type = t
		case "string", "date", "relational":
			return p.errorf("attribute %q: type %s is not supported (only numeric, real, integer and nominal {...})", name, typ)
		default:
			return p.errorf("attribute %q: unknown type %q (want numeric, real, integer or {v1,v2,...})", name, arffClip(typ))
		}
	}
	if j, dup := p.index[name]; dup {
		return p.errorf("attribute %q declared twice (also attribute %d)", name, j+1)
	}
	p.index[name] = len(p.a.Attributes)
	p.a.Attributes = append(p.a.Attributes, attr)
	return nil
}

// maxARFFCells bounds rows x attributes. Sparse rows make the parsed
// table far larger than the text ("{}" is a whole row of zeros), so the
// bound is what keeps a small file from demanding gigabytes.
var maxARFFCells = 1 << 27

// dataRow parses one non-blank line after @data.
func (p *arffParser) dataRow(text string) error {
	n := len(p.a.Attributes)
	if (len(p.a.Rows)+1)*n > maxARFFCells {
		return p.errorf("data too large: %d rows of %d attributes exceed the limit of %d values", len(p.a.Rows)+1, n, maxARFFCells)
	}
	row := make([]float64, n)
	miss := make([]bool, n)
	if text[0] == '{' {
		end := arffCloseBrace(text)
		switch {
		case end < 0:
			return p.errorf("sparse row does not end with '}'")
		case end != len(text)-1 && strings.HasPrefix(strings.TrimSpace(text[end+1:]), ","):
			return p.errorf("instance weights are not supported")
		case end != len(text)-1:
			return p.errorf("unexpected text %q after the sparse row", arffClip(text[end+1:]))
		}
		cells, err := splitARFFCells(text[1:end])
		if err != nil {
			return p.errorf("%v", err)
		}
		set := make([]bool, n)
		for _, c := range cells {
			if c.text == "" && !c.quoted && len(cells) == 1 {
				break // "{}": every value is 0
			}
			idx, val, err := splitSparseCell(c.raw)
			if err != nil {
				return p.errorf("sparse entry %q: %v", arffClip(c.raw), err)
			}
			k, err := strconv.Atoi(idx)
			if err != nil || k < 0 || k >= n {
				return p.errorf("sparse entry %q: index %q is not in 0..%d", arffClip(c.raw), arffClip(idx), n-1)
			}
			if set[k] {
				return p.errorf("sparse entry %q: attribute %d (%s) given twice", arffClip(c.raw), k, p.a.Attributes[k].Name)
			}
			set[k] = true
			if row[k], miss[k], err = p.value(k, val); err != nil {
				return err
			}
		}
	} else {
		cells, err := splitARFFCells(text)
		if err != nil {
			return p.errorf("%v", err)
		}
		if len(cells) != n {
			if len(cells) == n+1 && strings.HasPrefix(cells[n].raw, "{") {
				return p.errorf("instance weights are not supported")
			}
			return p.errorf("%d values, want %d (one per @attribute)", len(cells), n)
		}
		for k, c := range cells {
			if row[k], miss[k], err = p.value(k, c); err != nil {
				return err
			}
		}
	}
	p.a.Rows = append(p.a.Rows, row)
	p.a.Missing = append(p.a.Missing, miss)
	return nil
}

// value converts one cell of attribute k.
func (p *arffParser) value(k int, c arffCell) (float64, bool, error) {
	attr := &p.a.Attributes[k]
	if c.text == "?" && !c.quoted {
		return math.NaN(), true, nil
	}
	if attr.IsNominal() {
		for i, v := range attr.Values {
			if v == c.text {
				return float64(i), false, nil
			}
		}
		return 0, false, p.errorf("attribute %d (%s): %q is not one of its nominal values {%s}", k+1, attr.Name, arffClip(c.text), arffClip(strings.Join(attr.Values, ",")))
	}
	v, err := strconv.ParseFloat(c.text, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, p.errorf("attribute %d (%s): %q is not a finite number", k+1, attr.Name, arffClip(c.text))
	}
	return v, false, nil
}

// arffCell is one comma-separated field: raw is the trimmed source text,
// text the value with quotes and escapes removed.
type arffCell struct {
	raw, text string
	quoted    bool
}

// splitARFFCells splits s at the commas that are outside quotes.
func splitARFFCells(s string) ([]arffCell, error) {
	var cells []arffCell
	start := 0
	var quote byte
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			c := s[i]
			if quote != 0 {
				switch c {
				case '\\':
					i++
				case quote:
					quote = 0
				}
				continue
			}
			if c == '\'' || c == '"' {
				quote = c
				continue
			}
			if c != ',' {
				continue
			}
		}
		raw := strings.TrimSpace(s[start:min(i, len(s))])
		cell, err := unquoteARFF(raw)
		if err != nil {
			return nil, err
		}
		cells = append(cells, cell)
		start = i + 1
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	return cells, nil
}

// unquoteARFF turns a trimmed field into a cell, removing quotes.
func unquoteARFF(raw string) (arffCell, error) {
	c := arffCell{raw: raw, text: raw}
	if raw == "" || (raw[0] != '\'' && raw[0] != '"') {
		return c, nil
	}
	text, rest, err := arffToken(raw)
	if err != nil {
		return c, err
	}
	if strings.TrimSpace(rest) != "" {
		return c, fmt.Errorf("unexpected text %q after quoted value", arffClip(rest))
	}
	c.text, c.quoted = text, true
	return c, nil
}

// splitSparseCell splits "index value" into the index and the value cell.
func splitSparseCell(raw string) (string, arffCell, error) {
	i := strings.IndexAny(raw, " \t")
	if i < 0 {
		return "", arffCell{}, fmt.Errorf("want \"index value\"")
	}
	c, err := unquoteARFF(strings.TrimSpace(raw[i+1:]))
	return raw[:i], c, err
}

// arffToken reads a name at the start of s (leading spaces skipped): a
// quoted string, or bare text up to a space, tab or '{'. It returns the
// unquoted name and the rest of s.
func arffToken(s string) (tok, rest string, err error) {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return "", "", nil
	}
	if q := s[0]; q == '\'' || q == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(unescapeARFF(s[i]))
				}
			case q:
				return b.String(), s[i+1:], nil
			default:
				b.WriteByte(s[i])
			}
		}
		return "", "", fmt.Errorf("unterminated %c quote in %q", q, arffClip(s))
	}
	if i := strings.IndexAny(s, " \t{"); i >= 0 {
		return s[:i], s[i:], nil
	}
	return s, "", nil
}

func unescapeARFF(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return c
}

// arffCloseBrace returns the index of the first '}' outside quotes in s,
// or -1.
func arffCloseBrace(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '}':
			return i
		}
	}
	return -1
}

// stripARFFComment removes a '%' comment that starts outside quotes.
func stripARFFComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '%':
			return s[:i]
		}
	}
	return s
}

// arffClip shortens s for an error message.
func arffClip(s string) string {
	const limit = 60
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

// MulanTargets gives the number of targets (the last attributes of the
// file) of each data set of the Mulan multi-target regression collection,
// keyed by file name without ".arff".
var MulanTargets = map[string]int{
	"andro":  6,
	"atp1d":  6,
	"atp7d":  6,
	"edm":    2,
	"enb":    2,
	"jura":   3,
	"oes10":  16,
	"oes97":  16,
	"osales": 12,
	"scpf":   3,
	"sf1":    3,
	"sf2":    3,
	"slump":  3,
	"wq":     14,
}

// MultiTarget is a multi-target regression data set: every row has F
// features and T targets, some of which may be missing.
type MultiTarget struct {
	X        *tensor.Tensor // [N, F] float32 features
	Y        *tensor.Tensor // [N, T] float32 targets; 0 where missing
	Mask     *tensor.Tensor // [N, T] float32: 1 = target present, 0 = missing
	Features []string       // F attribute names
	Targets  []string       // T attribute names
}

// LoadMulan reads a Mulan multi-target regression ARFF file (for example
// ../shared/data/mtr-mulan/enb.arff; the collection is distributed at
// http://mulan.sourceforge.net/datasets-mtr.html) whose last `targets`
// attributes are the targets. targets == 0 looks the count up in
// MulanTargets by the file's base name. See (*ARFF).SplitTargets for how
// nominal and missing values are handled.
func LoadMulan(path string, targets int) (*MultiTarget, error) {
	if targets == 0 {
		base := strings.ToLower(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
		t, ok := MulanTargets[base]
		if !ok {
			return nil, fmt.Errorf("data: %s: targets = 0 but %q is not in MulanTargets; give the number of targets", path, base)
		}
		targets = t
	}
	a, err := ReadARFF(path)
	if err != nil {
		return nil, err
	}
	return a.SplitTargets(path, targets)
}

// SplitTargets turns the file into a MultiTarget whose targets are the last
// `targets` attributes and whose features are all the others; name is used
// in error messages.
//
// Nominal features are encoded as their value index 0..k-1 (not one-hot).
// A missing feature value is replaced by the mean of the column's present
// values (0 if the whole column is missing). A missing target is stored as
// 0 in Y with Mask 0. Targets must be numeric, not nominal, and there must
// be at least one feature and one row.
func (a *ARFF) SplitTargets(name string, targets int) (*MultiTarget, error) {
	na := len(a.Attributes)
	if targets < 1 || targets >= na {
		return nil, fmt.Errorf("data: %s: %d targets requested, want 1..%d (the file has %d attributes)", name, targets, na-1, na)
	}
	if len(a.Rows) == 0 {
		return nil, fmt.Errorf("data: %s: no data rows", name)
	}
	nf := na - targets
	for _, at := range a.Attributes[nf:] {
		if at.IsNominal() {
			return nil, fmt.Errorf("data: %s: target attribute %q is nominal, want numeric", name, at.Name)
		}
	}
	n := len(a.Rows)
	m := &MultiTarget{
		X:    tensor.New(tensor.Float32, n, nf),
		Y:    tensor.New(tensor.Float32, n, targets),
		Mask: tensor.New(tensor.Float32, n, targets),
	}
	for _, at := range a.Attributes[:nf] {
		m.Features = append(m.Features, at.Name)
	}
	for _, at := range a.Attributes[nf:] {
		m.Targets = append(m.Targets, at.Name)
	}
	mean := make([]float64, nf)
	for j := range nf {
		s, c := 0.0, 0
		for i, row := range a.Rows {
			if !a.Missing[i][j] {
				s += row[j]
				c++
			}
		}
		if c > 0 {
			mean[j] = s / float64(c)
		}
	}
	x, y, mask := m.X.F32(), m.Y.F32(), m.Mask.F32()
	for i, row := range a.Rows {
		for j := range nf {
			v := row[j]
			if a.Missing[i][j] {
				v = mean[j]
			}
			x[i*nf+j] = float32(v)
		}
		for t := range targets {
			if !a.Missing[i][nf+t] {
				y[i*targets+t] = float32(row[nf+t])
				mask[i*targets+t] = 1
			}
		}
	}
	return m, nil
}
