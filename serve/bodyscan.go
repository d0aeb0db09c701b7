package serve

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Request bodies are checked while they are read, before anything is
// built from them: a body may be small on the wire and still expand into
// many Go values (two million one-value inputs fit in 8 MB), so both
// decoders count the elements of the request's arrays and stop at the
// first one past a limit (fastjson.go for the common shape, scanBody below
// before encoding/json takes any other body). scanBody also refuses what
// encoding/json would accept silently: null (read as 0 or as "absent")
// and duplicate keys (the last one wins).

// bodyLimits bounds the values one request body may describe.
type bodyLimits struct {
	support  int // examples in support.inputs, support.labels, support.targets
	queries  int // inputs of a predict request
	perInput int // numbers in one input (a flat array or an image's rows)
	texts    int // texts of a translate request
	pairs    int // pairs of a translation adapt request
}

// bodyLimits derives the decoding bounds from the server's limits: a
// nested image may have MaxImageSide^2 values, a flat input no more.
func (s *Server) bodyLimits() *bodyLimits {
	l := s.cfg.Limits
	side := l.MaxImageSide
	return &bodyLimits{support: l.MaxSupport, queries: l.MaxQueries, perInput: max(side*side, 4096),
		texts: l.MaxTexts, pairs: l.MaxPairs}
}

// maxDepth bounds the nesting of a request body (an input is at most
// [1][H][W] inside support.inputs: depth 5).
const maxDepth = 16

func tooMany(field string, limit int, what string) error {
	return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("%s: more than %d %s (the limit is %d)", field, limit, what, limit)}
}

// pathElem is one step of a JSON path: an object key or an array index.
type pathElem struct {
	key string
	idx int // -1 for a key
}

// bodyScanner walks a JSON body without building values.
type bodyScanner struct {
	b    []byte
	i    int
	lim  *bodyLimits
	path []pathElem
	// numbers counted in the current input (-1: not inside an input)
	inputVals int
}

// scanBody checks body against lim: element counts of the request's
// arrays, values per input, nesting, null and duplicate keys. Syntax
// errors end the scan without an error: the general decoder reports them
// in its words (and finds them without allocating).
func scanBody(body []byte, lim *bodyLimits) error {
	sc := &bodyScanner{b: body, lim: lim, inputVals: -1}
	err := sc.value(0)
	if err == errSyntax {
		return nil
	}
	return err
}

// errSyntax ends a scan at malformed JSON.
var errSyntax = &apiError{http.StatusBadRequest, "malformed JSON"}

func (sc *bodyScanner) where() string {
	var sb strings.Builder
	for i, p := range sc.path {
		if p.idx >= 0 {
			fmt.Fprintf(&sb, "[%d]", p.idx)
			continue
		}
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(p.key)
	}
	if sb.Len() == 0 {
		return "the request"
	}
	return sb.String()
}

func (sc *bodyScanner) ws() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// arrayLimit returns the bound of the array at the current path (0: none
// beyond the body size), its name and what it holds.
func (sc *bodyScanner) arrayLimit() (int, string) {
	p := sc.path
	switch {
	case len(p) == 1 && p[0].key == "inputs":
		return sc.lim.queries, "inputs"
	case len(p) == 2 && p[0].key == "support" && (p[1].key == "inputs" || p[1].key == "labels" || p[1].key == "targets"):
		return sc.lim.support, "examples"
	case len(p) == 1 && p[0].key == "texts":
		return sc.lim.texts, "texts"
	case len(p) == 1 && p[0].key == "pairs":
		return sc.lim.pairs, "pairs"
	}
	return 0, ""
}

// startsInput reports whether the current path is one input: inputs[i]
// or support.inputs[i].
func (sc *bodyScanner) startsInput() bool {
	p := sc.path
	return (len(p) == 2 && p[0].key == "inputs" && p[1].idx >= 0) ||
		(len(p) == 3 && p[0].key == "support" && p[1].key == "inputs" && p[2].idx >= 0)
}

func (sc *bodyScanner) value(depth int) error {
	if depth > maxDepth {
		return badRequest("%s: nested deeper than %d levels", sc.where(), maxDepth)
	}
	input := sc.inputVals < 0 && sc.startsInput()
	if input {
		sc.inputVals = 0
		defer func() { sc.inputVals = -1 }()
	}
	sc.ws()
	if sc.i >= len(sc.b) {
		return errSyntax
	}
	switch c := sc.b[sc.i]; {
	case c == '{':
		return sc.object(depth)
	case c == '[':
		return sc.array(depth)
	case c == '"':
		_, err := sc.str()
		return err
	case c == 'n':
		if !sc.literal("null") {
			return errSyntax
		}
		return badRequest("%s is null: give a value, or leave an optional field out", sc.where())
	case c == 't':
		return sc.lit("true")
	case c == 'f':
		return sc.lit("false")
	default:
		if !sc.number() {
			return errSyntax
		}
		if sc.inputVals >= 0 {
			if sc.inputVals++; sc.inputVals > sc.lim.perInput {
				return tooMany(sc.inputPath(), sc.lim.perInput, "values in one input")
			}
		}
		return nil
	}
}

// inputPath names the input being counted.
func (sc *bodyScanner) inputPath() string {
	n := 2
	if sc.path[0].key == "support" {
		n = 3
	}
	saved := sc.path
	sc.path = sc.path[:n]
	defer func() { sc.path = saved }()
	return sc.where()
}

func (sc *bodyScanner) literal(s string) bool {
	if !strings.HasPrefix(string(sc.b[sc.i:min(len(sc.b), sc.i+len(s))]), s) {
		return false
	}
	sc.i += len(s)
	return true
}

func (sc *bodyScanner) lit(s string) error {
	if !sc.literal(s) {
		return errSyntax
	}
	return nil
}

// str skips a string and returns its raw contents (escapes undone only
// when there are any).
func (sc *bodyScanner) str() (string, error) {
	start := sc.i
	sc.i++
	escaped := false
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case '\\':
			escaped = true
			sc.i += 2
			continue
		case '"':
			sc.i++
			raw := sc.b[start:sc.i]
			if !escaped {
				return string(raw[1 : len(raw)-1]), nil
			}
			s, err := strconv.Unquote(string(raw))
			if err != nil {
				return string(raw[1 : len(raw)-1]), nil // the general decoder words the error
			}
			return s, nil
		}
		sc.i++
	}
	return "", errSyntax
}

func (sc *bodyScanner) number() bool {
	start := sc.i
	for sc.i < len(sc.b) {
		switch c := sc.b[sc.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			sc.i++
		default:
			return sc.i > start
		}
	}
	return sc.i > start
}

func (sc *bodyScanner) object(depth int) error {
	sc.i++ // {
	var keys []string
	var set map[string]bool
	for n := 0; ; n++ {
		sc.ws()
		if sc.i >= len(sc.b) {
			return errSyntax
		}
		if sc.b[sc.i] == '}' && n == 0 {
			sc.i++
			return nil
		}
		if sc.b[sc.i] != '"' {
			return errSyntax
		}
		key, err := sc.str()
		if err != nil {
			return err
		}
		// duplicates: a list for the few keys of a request, a set past it
		dup := false
		if set != nil {
			dup = set[key]
			set[key] = true
		} else {
			for _, k := range keys {
				dup = dup || k == key
			}
			if keys = append(keys, key); len(keys) > 16 {
				set = map[string]bool{}
				for _, k := range keys {
					set[k] = true
				}
			}
		}
		if dup {
			return badRequest("duplicate key %q in %s", key, sc.where())
		}
		sc.ws()
		if sc.i >= len(sc.b) || sc.b[sc.i] != ':' {
			return errSyntax
		}
		sc.i++
		sc.path = append(sc.path, pathElem{key: key, idx: -1})
		err = sc.value(depth + 1)
		sc.path = sc.path[:len(sc.path)-1]
		if err != nil {
			return err
		}
		sc.ws()
		if sc.i >= len(sc.b) {
			return errSyntax
		}
		switch sc.b[sc.i] {
		case ',':
			sc.i++
		case '}':
			sc.i++
			return nil
		default:
			return errSyntax
		}
	}
}

func (sc *bodyScanner) array(depth int) error {
	sc.i++ // [
	limit, what := sc.arrayLimit()
	for n := 0; ; n++ {
		sc.ws()
		if sc.i >= len(sc.b) {
			return errSyntax
		}
		if sc.b[sc.i] == ']' && n == 0 {
			sc.i++
			return nil
		}
		if limit > 0 && n >= limit {
			return tooMany(sc.where(), limit, what)
		}
		sc.path = append(sc.path, pathElem{idx: n})
		err := sc.value(depth + 1)
		sc.path = sc.path[:len(sc.path)-1]
		if err != nil {
			return err
		}
		sc.ws()
		if sc.i >= len(sc.b) {
			return errSyntax
		}
		switch sc.b[sc.i] {
		case ',':
			sc.i++
		case ']':
			sc.i++
			return nil
		default:
			return errSyntax
		}
	}
}
