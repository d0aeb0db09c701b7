package mt

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// Term is one glossary entry: a source term and the target term that
// must translate it.
type Term struct {
	Source, Target string
	runes          int
}

// Glossary forces a user's terminology: every occurrence of a source
// term (case-insensitive, whole words, the longest term first) is masked
// before translation and comes back as the target term (see matchCase).
type Glossary struct {
	Terms []Term
}

// NewGlossary builds a glossary from source -> target pairs; an empty
// source or target, or a source given twice with different targets, is
// an error.
func NewGlossary(terms []Term) (*Glossary, error) {
	g := &Glossary{}
	seen := map[string]string{}
	for i, t := range terms {
		t.Source, t.Target = strings.TrimSpace(t.Source), strings.TrimSpace(t.Target)
		if t.Source == "" || t.Target == "" {
			return nil, fmt.Errorf("glossary term %d: empty source or target term", i+1)
		}
		key := strings.ToLower(t.Source)
		if prev, dup := seen[key]; dup {
			if prev != t.Target {
				return nil, fmt.Errorf("glossary term %q: given twice, as %q and %q", t.Source, prev, t.Target)
			}
			continue
		}
		seen[key] = t.Target
		t.runes = utf8.RuneCountInString(t.Source)
		g.Terms = append(g.Terms, t)
	}
	sort.SliceStable(g.Terms, func(i, j int) bool { return g.Terms[i].runes > g.Terms[j].runes })
	return g, nil
}

// ReadGlossary reads a TSV glossary: one "source term<TAB>target term"
// per line; blank lines and lines starting with # are skipped. Errors
// name the file and line.
func ReadGlossary(path string) (*Glossary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseGlossary(f, path)
}

// ParseGlossary reads a TSV glossary from r (name is for errors).
func ParseGlossary(r io.Reader, name string) (*Glossary, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var terms []Term
	line := 0
	for sc.Scan() {
		line++
		l := strings.TrimSuffix(sc.Text(), "\r")
		if line == 1 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if !utf8.ValidString(l) {
			return nil, fmt.Errorf("%s:%d: invalid UTF-8", name, line)
		}
		cols := strings.Split(l, "\t")
		if len(cols) != 2 {
			return nil, fmt.Errorf("%s:%d: %d columns, want 2 (source term<TAB>target term)", name, line, len(cols))
		}
		if strings.TrimSpace(cols[0]) == "" || strings.TrimSpace(cols[1]) == "" {
			return nil, fmt.Errorf("%s:%d: empty source or target term", name, line)
		}
		if strings.ContainsAny(cols[0]+cols[1], SentinelOpen+SentinelClose) {
			return nil, fmt.Errorf("%s:%d: a term contains a sentinel bracket %s or %s", name, line, SentinelOpen, SentinelClose)
		}
		terms = append(terms, Term{Source: cols[0], Target: cols[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	g, err := NewGlossary(terms)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return g, nil
}

// find returns the byte offset and length of the leftmost glossary term
// in s (the longest one at that offset) and its target; n = 0 if none.
func (g *Glossary) find(s string) (at, n int, target string) {
	prev := rune(' ')
	for i, r := range s {
		if !isWordRune(prev) {
			for _, t := range g.Terms {
				if m := prefixFold(s[i:], t.Source, t.runes); m > 0 {
					next, _ := utf8.DecodeRuneInString(s[i+m:])
					if i+m == len(s) || !isWordRune(next) {
						return i, m, t.Target
					}
				}
			}
		}
		prev = r
	}
	return 0, 0, ""
}

// prefixFold returns the byte length of the prefix of s with runes runes
// if it equals term under Unicode case folding, else 0.
func prefixFold(s, term string, runes int) int {
	n, k := 0, 0
	for k < runes && n < len(s) {
		_, w := utf8.DecodeRuneInString(s[n:])
		n += w
		k++
	}
	if k < runes || !strings.EqualFold(s[:n], term) {
		return 0
	}
	return n
}
