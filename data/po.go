package data

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// POEntry is one message of a gettext catalogue (.po/.pot).
type POEntry struct {
	// Comments are the translator comments, each the text after "#"
	// verbatim (usually starting with a space).
	Comments []string
	// Extracted ("#."), References ("#:") and Previous ("#|", the
	// previous msgid of a fuzzy entry) keep the text after the marker and
	// one space.
	Extracted, References, Previous []string
	// Flags ("#,"), e.g. fuzzy, c-format.
	Flags []string
	// Context is msgctxt; HasContext distinguishes msgctxt "" from none.
	Context    string
	HasContext bool
	ID         string
	// IDPlural is msgid_plural; Str then holds msgstr[0..n-1].
	IDPlural  string
	HasPlural bool
	// Str: msgstr (one element) or the plural forms.
	Str []string
	// Obsolete entries are the "#~" ones.
	Obsolete bool
	// Line is the line of the entry's msgid.
	Line int
}

// Fuzzy reports whether the entry has the fuzzy flag.
func (e *POEntry) Fuzzy() bool { return e.HasFlag("fuzzy") }

// HasFlag reports whether the entry has flag f.
func (e *POEntry) HasFlag(f string) bool {
	for _, x := range e.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// SetFuzzy adds or removes the fuzzy flag.
func (e *POEntry) SetFuzzy(on bool) {
	out := e.Flags[:0:0]
	for _, x := range e.Flags {
		if x != "fuzzy" {
			out = append(out, x)
		}
	}
	if on {
		out = append([]string{"fuzzy"}, out...)
	}
	e.Flags = out
}

// Translated reports whether every msgstr is non-empty.
func (e *POEntry) Translated() bool {
	if len(e.Str) == 0 {
		return false
	}
	for _, s := range e.Str {
		if s == "" {
			return false
		}
	}
	return true
}

// IsHeader reports whether e is the header entry (msgid "" without
// context).
func (e *POEntry) IsHeader() bool { return e.ID == "" && !e.HasContext && !e.Obsolete }

// POFile is a parsed gettext catalogue; the header entry, when present,
// is one of the Entries (usually the first).
type POFile struct {
	Entries []POEntry
	// Trailing are comment lines after the last entry (kept verbatim).
	Trailing []string
}

// Header is the header entry, or nil.
func (f *POFile) Header() *POEntry {
	for i := range f.Entries {
		if f.Entries[i].IsHeader() {
			return &f.Entries[i]
		}
	}
	return nil
}

// HeaderField is a field of the header ("Plural-Forms", "Language", ...).
func (f *POFile) HeaderField(name string) (string, bool) {
	h := f.Header()
	if h == nil || len(h.Str) == 0 {
		return "", false
	}
	for _, l := range strings.Split(h.Str[0], "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

var pluralFormsRE = regexp.MustCompile(`^\s*nplurals\s*=\s*([0-9]+)\s*;\s*plural\s*=\s*([^;]+);?\s*$`)

// PluralForms parses the header's Plural-Forms ("nplurals=2; plural=(n
// != 1);"): the number of forms and the plural expression (not
// evaluated). ok is false when the header has none.
func (f *POFile) PluralForms() (n int, expr string, ok bool, err error) {
	v, has := f.HeaderField("Plural-Forms")
	if !has {
		return 0, "", false, nil
	}
	m := pluralFormsRE.FindStringSubmatch(v)
	if m == nil {
		return 0, "", true, fmt.Errorf("Plural-Forms %q: want \"nplurals=N; plural=EXPR;\"", v)
	}
	n, err = strconv.Atoi(m[1])
	if err != nil || n < 1 || n > 64 {
		return 0, "", true, fmt.Errorf("Plural-Forms %q: nplurals must be 1..64", v)
	}
	return n, strings.TrimSpace(m[2]), true, nil
}

// Segments returns the translated messages as parallel segments (msgid ->
// msgstr[0], msgctxt as Context, the entry's line), skipping the header,
// obsolete and untranslated entries, and fuzzy ones unless withFuzzy.
func (f *POFile) Segments(withFuzzy bool) []Segment {
	var out []Segment
	for i := range f.Entries {
		e := &f.Entries[i]
		if e.IsHeader() || e.Obsolete || !e.Translated() || (e.Fuzzy() && !withFuzzy) {
			continue
		}
		out = append(out, Segment{Context: e.Context, Source: e.ID, Target: e.Str[0], Line: e.Line})
	}
	return out
}

// ReadPO reads a .po/.pot file.
func ReadPO(path string) (*POFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePO(b, path)
}

type poParser struct {
	name  string
	f     POFile
	cur   *POEntry
	state int // what the last keyword was
	field *string
	line  int
	// started: the current entry has a keyword (not just comments)
	started bool
	seen    map[string]int
}

const (
	poNone = iota
	poCtxt
	poID
	poPlural
	poStr
)

// ParsePO parses a gettext catalogue. Everything must be UTF-8 (the
// header's charset, if given, must be UTF-8 or ASCII). Errors name the
// file, the line and the reason: unterminated or badly escaped strings,
// keywords out of order, msgstr[n] without msgid_plural or with gaps,
// entries without msgstr, duplicate messages.
func ParsePO(b []byte, name string) (*POFile, error) {
	p := &poParser{name: name, seen: map[string]int{}}
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for i, raw := range lines {
		p.line = i + 1
		raw = bytes.TrimSuffix(raw, []byte("\r"))
		if i == 0 {
			raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
		}
		if !utf8.Valid(raw) {
			return nil, p.err("invalid UTF-8 (catalogues must be UTF-8)")
		}
		if err := p.parseLine(string(raw)); err != nil {
			return nil, err
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	if p.cur != nil {
		p.f.Trailing = commentLines(p.cur)
	}
	if h := p.f.Header(); h != nil && len(h.Str) > 0 {
		if ct, ok := p.f.HeaderField("Content-Type"); ok {
			if _, cs, ok := strings.Cut(strings.ToLower(ct), "charset="); ok {
				cs = strings.TrimSpace(cs)
				if cs != "utf-8" && cs != "utf8" && cs != "ascii" && cs != "us-ascii" && cs != "charset" {
					return nil, &ParseError{File: name, Line: h.Line, Reason: fmt.Sprintf("charset %q: only UTF-8 catalogues are read (convert with msgconv --to-code=UTF-8)", cs)}
				}
			}
		}
		n, _, ok, err := p.f.PluralForms()
		if ok && err != nil {
			return nil, &ParseError{File: name, Line: h.Line, Reason: err.Error()}
		}
		for _, e := range p.f.Entries {
			if ok && e.HasPlural && !e.Obsolete && len(e.Str) != n {
				return nil, &ParseError{File: name, Line: e.Line, Reason: fmt.Sprintf("%d plural forms, the header's Plural-Forms says nplurals=%d", len(e.Str), n)}
			}
		}
	}
	return &p.f, nil
}

func (p *poParser) err(format string, args ...any) error {
	return parseErr(p.name, p.line, format, args...)
}

// entry returns the entry being built, starting one if needed.
func (p *poParser) entry() *POEntry {
	if p.cur == nil {
		p.cur = &POEntry{}
	}
	return p.cur
}

// finish closes the current entry; a blank line after comments alone
// keeps them for the next entry, and at the end of the file they become
// the trailing comments.
func (p *poParser) finish() error {
	e := p.cur
	if e == nil || !p.started {
		return nil
	}
	p.cur, p.state, p.field, p.started = nil, poNone, nil, false
	if len(e.Str) == 0 {
		return parseErr(p.name, e.Line, "msgid without msgstr")
	}
	if !e.Obsolete {
		key := e.Context + "\x04" + e.ID
		if !e.HasContext {
			key = "\x00" + e.ID
		}
		if l, dup := p.seen[key]; dup {
			return parseErr(p.name, e.Line, "duplicate message definition (first at line %d)", l)
		}
		p.seen[key] = e.Line
	}
	p.f.Entries = append(p.f.Entries, *e)
	return nil
}

func commentLines(e *POEntry) []string {
	var out []string
	for _, c := range e.Comments {
		out = append(out, "#"+c)
	}
	for _, c := range e.Extracted {
		out = append(out, "#. "+c)
	}
	for _, c := range e.References {
		out = append(out, "#: "+c)
	}
	if len(e.Flags) > 0 {
		out = append(out, "#, "+strings.Join(e.Flags, ", "))
	}
	for _, c := range e.Previous {
		out = append(out, "#| "+c)
	}
	return out
}

func (p *poParser) parseLine(l string) error {
	t := strings.TrimSpace(l)
	if t == "" {
		return p.finish()
	}
	obsolete := false
	if strings.HasPrefix(t, "#~") {
		obsolete = true
		t = strings.TrimSpace(t[2:])
		if strings.HasPrefix(t, "|") {
			return p.comment("#" + t)
		}
		if t == "" {
			return nil
		}
	}
	if !obsolete && strings.HasPrefix(t, "#") {
		return p.comment(l[strings.Index(l, "#"):])
	}
	if p.cur != nil && p.started && p.cur.Obsolete != obsolete && !strings.HasPrefix(t, `"`) {
		if p.state == poStr {
			if err := p.finish(); err != nil {
				return err
			}
		} else {
			return p.err("obsolete (#~) and active lines mixed in one entry")
		}
	}
	if strings.HasPrefix(t, `"`) {
		if p.field == nil {
			return p.err("string continuation without a keyword before it")
		}
		s, err := p.unquote(t)
		if err != nil {
			return err
		}
		*p.field += s
		return nil
	}
	kw, rest, _ := strings.Cut(t, " ")
	if i := strings.IndexAny(t, " \t\""); i >= 0 {
		kw, rest = t[:i], t[i:]
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, `"`) {
		return p.err("%q: want a keyword followed by a quoted string", truncate(t))
	}
	s, err := p.unquote(rest)
	if err != nil {
		return err
	}
	switch {
	case kw == "msgctxt":
		if p.cur != nil && p.started {
			if err := p.finish(); err != nil {
				return err
			}
		}
		e := p.entry()
		e.Obsolete, e.Context, e.HasContext = obsolete, s, true
		p.started, p.state, p.field = true, poCtxt, &e.Context
	case kw == "msgid":
		if p.cur != nil && p.started && p.state != poCtxt {
			if err := p.finish(); err != nil {
				return err
			}
		}
		e := p.entry()
		e.Obsolete, e.ID, e.Line = obsolete, s, p.line
		p.started, p.state, p.field = true, poID, &e.ID
	case kw == "msgid_plural":
		if p.state != poID {
			return p.err("msgid_plural not right after msgid")
		}
		e := p.cur
		e.IDPlural, e.HasPlural = s, true
		p.state, p.field = poPlural, &e.IDPlural
	case kw == "msgstr":
		if p.state != poID {
			if p.state == poPlural {
				return p.err("msgstr after msgid_plural: want msgstr[0], msgstr[1], ...")
			}
			return p.err("msgstr without msgid")
		}
		e := p.cur
		e.Str = append(e.Str, s)
		p.state, p.field = poStr, &e.Str[0]
	case strings.HasPrefix(kw, "msgstr["):
		if p.cur == nil || !p.cur.HasPlural || (p.state != poPlural && p.state != poStr) {
			return p.err("%s without msgid_plural", kw)
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(kw, "msgstr["), "]"))
		if err != nil || !strings.HasSuffix(kw, "]") {
			return p.err("bad plural index in %q", kw)
		}
		e := p.cur
		if n != len(e.Str) {
			return p.err("%s out of order: want msgstr[%d]", kw, len(e.Str))
		}
		e.Str = append(e.Str, s)
		p.state, p.field = poStr, &e.Str[n]
	default:
		return p.err("unknown keyword %q (want msgctxt, msgid, msgid_plural, msgstr, msgstr[N])", truncate(kw))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// comment adds a comment line (starting with "#") to the next entry.
func (p *poParser) comment(c string) error {
	if p.cur != nil && p.started {
		if err := p.finish(); err != nil {
			return err
		}
	}
	e := p.entry()
	body := func(s string) string { return strings.TrimPrefix(s, " ") }
	switch {
	case strings.HasPrefix(c, "#."):
		e.Extracted = append(e.Extracted, body(c[2:]))
	case strings.HasPrefix(c, "#:"):
		e.References = append(e.References, body(c[2:]))
	case strings.HasPrefix(c, "#|"):
		e.Previous = append(e.Previous, body(c[2:]))
	case strings.HasPrefix(c, "#,"):
		for _, f := range strings.Split(c[2:], ",") {
			if f = strings.TrimSpace(f); f != "" {
				e.Flags = append(e.Flags, f)
			}
		}
	default:
		e.Comments = append(e.Comments, c[1:])
	}
	return nil
}

// unquote decodes one C-quoted string that must fill the rest of the
// line: escapes \n \t \r \a \b \f \v \\ \" \' \?, octal \ooo and hex \xHH.
func (p *poParser) unquote(s string) (string, error) {
	if len(s) < 2 || s[0] != '"' {
		return "", p.err("want a quoted string")
	}
	var b strings.Builder
	i := 1
	for ; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			break
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", p.err("unterminated string (backslash at the end of the line)")
		}
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '\\', '"', '\'', '?':
			b.WriteByte(e)
		case 'x':
			j := i + 1
			for j < len(s) && j < i+3 && isHex(s[j]) {
				j++
			}
			if j == i+1 {
				return "", p.err("\\x without hex digits")
			}
			v, _ := strconv.ParseUint(s[i+1:j], 16, 8)
			b.WriteByte(byte(v))
			i = j - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i:j], 8, 16)
			if v > 255 {
				return "", p.err("octal escape \\%s out of range", s[i:j])
			}
			b.WriteByte(byte(v))
			i = j - 1
		default:
			return "", p.err("unknown escape \\%c", e)
		}
	}
	if i >= len(s) {
		return "", p.err("unterminated string")
	}
	if rest := strings.TrimSpace(s[i+1:]); rest != "" {
		if rest[0] == '"' { // several strings on one line concatenate
			more, err := p.unquote(rest)
			if err != nil {
				return "", err
			}
			b.WriteString(more)
		} else {
			return "", p.err("text after the closing quote: %q", truncate(rest))
		}
	}
	out := b.String()
	if !utf8.ValidString(out) {
		return "", p.err("string decodes to invalid UTF-8")
	}
	return out, nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// WritePO writes the catalogue in gettext's layout: comments, then
// msgctxt/msgid/msgid_plural/msgstr, strings with embedded newlines split
// into one quoted line per line after an empty first line, entries
// separated by blank lines, obsolete entries prefixed "#~ ". Reading the
// output gives back the same entries.
func WritePO(w io.Writer, f *POFile) error {
	var b bytes.Buffer
	for i := range f.Entries {
		e := &f.Entries[i]
		if i > 0 {
			b.WriteByte('\n')
		}
		for _, c := range commentLines(e) {
			b.WriteString(c)
			b.WriteByte('\n')
		}
		pre := ""
		if e.Obsolete {
			pre = "#~ "
		}
		if e.HasContext {
			writePOString(&b, pre, "msgctxt", e.Context)
		}
		writePOString(&b, pre, "msgid", e.ID)
		if e.HasPlural {
			writePOString(&b, pre, "msgid_plural", e.IDPlural)
			for n, s := range e.Str {
				writePOString(&b, pre, fmt.Sprintf("msgstr[%d]", n), s)
			}
		} else {
			s := ""
			if len(e.Str) > 0 {
				s = e.Str[0]
			}
			writePOString(&b, pre, "msgstr", s)
		}
	}
	if len(f.Trailing) > 0 {
		if len(f.Entries) > 0 {
			b.WriteByte('\n')
		}
		for _, c := range f.Trailing {
			b.WriteString(c)
			b.WriteByte('\n')
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writePOString(b *bytes.Buffer, pre, kw, s string) {
	parts := strings.SplitAfter(s, "\n")
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) <= 1 {
		fmt.Fprintf(b, "%s%s \"%s\"\n", pre, kw, escapePO(s))
		return
	}
	fmt.Fprintf(b, "%s%s \"\"\n", pre, kw)
	for _, p := range parts {
		fmt.Fprintf(b, "%s\"%s\"\n", pre, escapePO(p))
	}
}

func escapePO(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\v':
			b.WriteString(`\v`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&b, `\%03o`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}
