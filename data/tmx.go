package data

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
)

// TMXUnit is one translation unit (<tu>) of a TMX file: its tuid, the
// line of its start tag and the text of each variant by language (the
// xml:lang as written; the first variant of a language wins).
type TMXUnit struct {
	ID   string
	Line int
	Text map[string]string
}

// TMXOptions choose how inline markup inside <seg> is read.
type TMXOptions struct {
	// KeepCodes keeps the native code inside <bpt>, <ept>, <ph>, <it> and
	// <ut> (e.g. "<b>") as text. By default those elements are removed
	// with their content, so segments are the translatable text only;
	// the text inside <hi> is always kept, and <sub> goes with its code
	// element (kept with KeepCodes).
	KeepCodes bool
}

const xmlNS = "http://www.w3.org/XML/1998/namespace"

var tmxCodes = map[string]bool{"bpt": true, "ept": true, "ph": true, "it": true, "ut": true}

// ParseTMX reads a TMX 1.4 document (also 1.1-1.3: the lang attribute
// without the xml: prefix is accepted). Errors name the file, line and
// reason: malformed XML, a root that is not <tmx>, <tuv> without a
// language, <seg> outside <tuv>, a <tuv> with no or several <seg>.
func ParseTMX(r io.Reader, name string, opt TMXOptions) ([]TMXUnit, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	var (
		units            []TMXUnit
		cur              *TMXUnit
		lang             string
		inTUV, inSeg     bool
		segs             int
		seg              strings.Builder
		codeDepth, depth int
		sawRoot          bool
	)
	line := func() int { l, _ := d.InputPos(); return l }
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, parseErr(name, se.Line, "XML: %s", se.Msg)
			}
			return nil, parseErr(name, line(), "XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			n := t.Name.Local
			if depth == 1 {
				if n != "tmx" {
					return nil, parseErr(name, line(), "root element <%s>, want <tmx>", n)
				}
				sawRoot = true
				continue
			}
			if inSeg {
				if tmxCodes[n] || (n == "sub" && codeDepth > 0) {
					codeDepth++
				}
				continue
			}
			switch n {
			case "tu":
				if cur != nil {
					return nil, parseErr(name, line(), "<tu> inside <tu>")
				}
				cur = &TMXUnit{Line: line(), Text: map[string]string{}}
				for _, a := range t.Attr {
					if a.Name.Local == "tuid" {
						cur.ID = a.Value
					}
				}
			case "tuv":
				if cur == nil {
					return nil, parseErr(name, line(), "<tuv> outside <tu>")
				}
				lang = ""
				for _, a := range t.Attr {
					if a.Name.Local == "lang" && (a.Name.Space == xmlNS || a.Name.Space == "" || a.Name.Space == "xml") {
						lang = a.Value
					}
				}
				if lang == "" {
					return nil, parseErr(name, line(), "<tuv> without xml:lang")
				}
				inTUV, segs = true, 0
			case "seg":
				if !inTUV {
					return nil, parseErr(name, line(), "<seg> outside <tuv>")
				}
				segs++
				if segs > 1 {
					return nil, parseErr(name, line(), "<tuv> with more than one <seg>")
				}
				inSeg = true
				seg.Reset()
			}
		case xml.EndElement:
			depth--
			n := t.Name.Local
			if inSeg {
				if n == "seg" {
					inSeg = false
					if _, dup := cur.Text[lang]; !dup {
						cur.Text[lang] = seg.String()
					}
				} else if codeDepth > 0 && (tmxCodes[n] || n == "sub") {
					codeDepth--
				}
				continue
			}
			switch n {
			case "tuv":
				if segs == 0 {
					return nil, parseErr(name, line(), "<tuv xml:lang=%q> without <seg>", lang)
				}
				inTUV = false
			case "tu":
				units = append(units, *cur)
				cur = nil
			}
		case xml.CharData:
			if inSeg && (codeDepth == 0 || opt.KeepCodes) {
				seg.Write(t)
			}
		}
	}
	if !sawRoot {
		return nil, parseErr(name, 0, "no <tmx> element")
	}
	return units, nil
}

// ReadTMX reads a TMX file (see ParseTMX).
func ReadTMX(path string, opt TMXOptions) ([]TMXUnit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseTMX(f, path, opt)
}

// langMatches compares language tags case-insensitively, "en" matching
// "en-US" and "en_GB" too.
func langMatches(tag, want string) bool {
	tag, want = strings.ToLower(strings.ReplaceAll(tag, "_", "-")), strings.ToLower(strings.ReplaceAll(want, "_", "-"))
	return tag == want || strings.HasPrefix(tag, want+"-")
}

// TMXPairs picks the units that have both languages (see langMatches) as
// segments src -> tgt, with the tuid and line.
func TMXPairs(units []TMXUnit, src, tgt string) []Segment {
	pick := func(u TMXUnit, l string) (string, bool) {
		if s, ok := u.Text[l]; ok {
			return s, true
		}
		best := ""
		for k := range u.Text {
			if langMatches(k, l) && (best == "" || k < best) {
				best = k
			}
		}
		if best == "" {
			return "", false
		}
		return u.Text[best], true
	}
	var out []Segment
	for _, u := range units {
		s, ok1 := pick(u, src)
		t, ok2 := pick(u, tgt)
		if ok1 && ok2 {
			out = append(out, Segment{ID: u.ID, Source: s, Target: t, Line: u.Line})
		}
	}
	return out
}
