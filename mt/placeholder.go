package mt

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinels stand for the masked parts of a message while it is
// translated: ⟦0⟧, ⟦1⟧, ... numbered in order of appearance. The
// brackets are U+27E6 and U+27E7; a bracket already in the text is masked
// itself, so every sentinel in a masked text is one Mask made.
const (
	SentinelOpen  = "⟦"
	SentinelClose = "⟧"
)

// SpanKind says what a masked span is.
type SpanKind int

const (
	// SpanCode is a placeholder, markup, an entity, a control character
	// or a literal sentinel bracket: restored byte for byte, never
	// touched.
	SpanCode SpanKind = iota
	// SpanTerm is a glossary term: restored as the glossary's target
	// term (with case matching), and an accelerator may go inside it.
	SpanTerm
)

// Span is one masked part of a message.
type Span struct {
	Kind SpanKind
	// Text is the source text the sentinel replaced.
	Text string
	// Target is what a SpanTerm becomes in the translation.
	Target string
}

// placeholderRE matches, leftmost first and in this order of
// preference at one position: sentinel brackets; Python's %(name)s;
// printf with a position (%1$d); LibreOffice's %PRODUCTNAME-style names;
// printf conversions (%s, %-5.2f, %lu, %%; not the space flag, so
// "100% sure" is text); any other % and letter (strftime's %Y, %_d,
// stat's %Hd: masking too much is safe, too little is not); Qt's %1; .NET/Python {0},
// {name}, {0:N2}, {}; $(ARG1); ${x}; $name$; $1; @VAR@; HTML/XML
// comments, tags with attributes and entities; the literal accelerator
// escapes && and ~~; runs of control whitespace (newline, tab, CR).
var placeholderRE = regexp.MustCompile(strings.Join([]string{
	`[⟦⟧]`,
	`%\([A-Za-z_][A-Za-z0-9_.]*\)[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]`,
	`%\d+\$[-+ #0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t)?[diouxXeEfFgGaAcspn]`,
	`%[A-Z][A-Z0-9_]+\b`,
	`%[-+#0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t|I64|I32)?[diouxXeEfFgGaAcspn%]`,
	`%[-_0^#]?[HL]?[A-Za-z]`,
	`%\d+`,
	`\{[A-Za-z0-9_.\[\]]*(?::[^{}\s]*)?\}`,
	`\$\([A-Za-z0-9_]+\)`,
	`\$\{[^{}\s]+\}`,
	`\$[A-Za-z_][A-Za-z0-9_]*\$`,
	`\$\d+`,
	`@[A-Za-z_][A-Za-z0-9_]*@`,
	`<!--[\s\S]*?-->`,
	`</?[A-Za-z][A-Za-z0-9:_.-]*(?:\s+[^<>]*?)?/?>`,
	`&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);`,
	`&&`, `~~`,
	`[\n\t\r\v\f]+`,
}, "|"))

// sentinelRE finds sentinels in a model's output, tolerating spaces the
// model may put inside the brackets.
var sentinelRE = regexp.MustCompile(`⟦\s*([0-9]+)\s*⟧`)

// Masked is a message prepared for translation.
type Masked struct {
	// Text is what the model translates: the message without its
	// leading and trailing whitespace and accelerator marker, with every
	// span replaced by its sentinel.
	Text string
	// Spans are the masked parts; Spans[i] is sentinel ⟦i⟧.
	Spans []Span
	// Prefix and Suffix are the leading and trailing whitespace.
	Prefix, Suffix string
	// Accel is the accelerator marker removed from the text (0: none)
	// and AccelLetter the character it marked.
	Accel       rune
	AccelLetter rune
	// plain is the message without whitespace and marker, accelAt the
	// marker's byte offset in it (for the identity translation).
	plain   string
	accelAt int
}

// MaskOptions configures Mask.
type MaskOptions struct {
	// Accelerators are the accelerator marker characters to recognise
	// (e.g. "~&_"); empty means none.
	Accelerators string
	// Glossary terms in the text become SpanTerm spans.
	Glossary *Glossary
}

// DefaultAccelerators are the markers recognised by default:
// LibreOffice's ~, Qt/Windows' & and GTK's _.
const DefaultAccelerators = "~&_"

// Sentinel is the sentinel of span i.
func Sentinel(i int) string { return SentinelOpen + strconv.Itoa(i) + SentinelClose }

// Mask prepares message s for translation: leading/trailing whitespace
// is set aside, placeholders and markup become sentinels, an accelerator
// marker is removed (its letter remembered) and glossary terms become
// sentinels. Unmask(m.Text) == s for every string s (fuzzed).
func Mask(s string, o MaskOptions) Masked {
	var m Masked
	core := strings.TrimLeftFunc(s, unicode.IsSpace)
	m.Prefix = s[:len(s)-len(core)]
	trimmed := strings.TrimRightFunc(core, unicode.IsSpace)
	m.Suffix = core[len(trimmed):]
	core = trimmed

	// Placeholders and markup.
	var b strings.Builder
	last := 0
	for _, loc := range placeholderRE.FindAllStringIndex(core, -1) {
		b.WriteString(core[last:loc[0]])
		b.WriteString(Sentinel(len(m.Spans)))
		m.Spans = append(m.Spans, Span{Kind: SpanCode, Text: core[loc[0]:loc[1]]})
		last = loc[1]
	}
	b.WriteString(core[last:])
	text := b.String()

	// The accelerator: exactly one marker of a kind followed by a letter
	// or digit, outside sentinels (which hold no marker characters).
	for _, a := range o.Accelerators {
		if i, ok := findAccel(text, a); ok {
			m.Accel = a
			m.AccelLetter, _ = utf8.DecodeRuneInString(text[i+utf8.RuneLen(a):])
			m.accelAt = len(m.expand(text[:i]))
			text = text[:i] + text[i+utf8.RuneLen(a):]
			break
		}
	}
	m.plain = m.expand(text)

	// Glossary terms, longest first, in the text between sentinels.
	if o.Glossary != nil && len(o.Glossary.Terms) > 0 {
		text = m.maskTerms(text, o.Glossary)
	}
	m.Text = text
	return m
}

// expand replaces the code sentinels of a masked text by their spans.
func (m *Masked) expand(text string) string {
	var b strings.Builder
	for _, p := range splitSentinels(text) {
		if p.span >= 0 && p.span < len(m.Spans) {
			b.WriteString(m.Spans[p.span].Text)
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// findAccel returns the byte offset of the one accelerator marker a in
// text: a followed by a letter or digit, a the only such occurrence. (A
// lone snake_case word is taken as a mnemonic, as GTK's "Pr_eferences";
// two or more are not, having several markers.)
func findAccel(text string, a rune) (int, bool) {
	at, n := -1, 0
	for i, r := range text {
		if r != a {
			continue
		}
		next, _ := utf8.DecodeRuneInString(text[i+utf8.RuneLen(a):])
		if unicode.IsLetter(next) || unicode.IsDigit(next) {
			at = i
			n++
		}
	}
	if n != 1 {
		return 0, false
	}
	return at, true
}

// maskTerms replaces glossary terms in the text (not inside sentinels)
// by sentinels; the span numbers continue after the code spans, and
// sentinels are renumbered in order of appearance afterwards.
func (m *Masked) maskTerms(text string, g *Glossary) string {
	parts := splitSentinels(text)
	var b strings.Builder
	for _, p := range parts {
		if p.span >= 0 {
			b.WriteString(p.text)
			continue
		}
		s := p.text
		for len(s) > 0 {
			i, n, t := g.find(s)
			if n == 0 {
				b.WriteString(s)
				break
			}
			b.WriteString(s[:i])
			b.WriteString(Sentinel(len(m.Spans)))
			m.Spans = append(m.Spans, Span{Kind: SpanTerm, Text: s[i : i+n], Target: t})
			s = s[i+n:]
		}
	}
	out := b.String()
	// Renumber in order of appearance so the model sees ⟦0⟧, ⟦1⟧, ...
	order := map[int]int{}
	var spans []Span
	out = sentinelRE.ReplaceAllStringFunc(out, func(x string) string {
		k, _ := strconv.Atoi(sentinelRE.FindStringSubmatch(x)[1])
		order[k] = len(spans)
		spans = append(spans, m.Spans[k])
		return Sentinel(order[k])
	})
	m.Spans = spans
	return out
}

type piece struct {
	text string
	span int // sentinel number, or -1 for text
}

// splitSentinels splits text into plain runs and sentinels.
func splitSentinels(text string) []piece {
	var out []piece
	last := 0
	for _, loc := range sentinelRE.FindAllStringSubmatchIndex(text, -1) {
		if loc[0] > last {
			out = append(out, piece{text[last:loc[0]], -1})
		}
		k, err := strconv.Atoi(text[loc[2]:loc[3]])
		if err != nil {
			k = 1 << 30 // out of range: treated as unknown
		}
		out = append(out, piece{text[loc[0]:loc[1]], k})
		last = loc[1]
	}
	if last < len(text) {
		out = append(out, piece{text[last:], -1})
	}
	return out
}

// Restored is a translation with its spans put back.
type Restored struct {
	Text string
	// Problems describe the repairs made (missing, duplicated or unknown
	// sentinels, an accelerator that had no letter to go before); empty
	// when the model kept every sentinel once.
	Problems []string
}

// Unmask puts the spans of m back into translation t (a translation of
// m.Text): every sentinel ⟦i⟧ becomes span i (a code span verbatim, a
// term as its target), the accelerator goes back before a sensible
// letter, and the prefix and suffix are restored. A sentinel the model
// dropped is put back deterministically (at the start if it began the
// source, otherwise at the end, before final punctuation); a duplicate or
// an unknown sentinel is removed. Each repair is listed in Problems, so
// no placeholder is ever lost or doubled.
func (m *Masked) Unmask(t string) Restored {
	var r Restored
	if len(m.Spans) == 0 && m.Accel == 0 {
		// Nothing masked: a stray sentinel in the output is the model's.
		t, r.Problems = dropStraySentinels(t)
		r.Text = m.Prefix + t + m.Suffix
		return r
	}
	pieces := splitSentinels(t)
	seen := make([]bool, len(m.Spans))
	var kept []piece
	for _, p := range pieces {
		if p.span < 0 {
			kept = append(kept, p)
			continue
		}
		switch {
		case p.span >= len(m.Spans):
			r.Problems = append(r.Problems, fmt.Sprintf("removed unknown sentinel %s", p.text))
		case seen[p.span]:
			r.Problems = append(r.Problems, fmt.Sprintf("removed a duplicate of %q", m.Spans[p.span].Text))
		default:
			seen[p.span] = true
			kept = append(kept, p)
		}
	}
	// Missing spans: those that began the source go first (in order),
	// the others last, before final punctuation.
	srcPieces := splitSentinels(m.Text)
	var head, tail, breaks []piece
	var breakAt []float64
	leading := true
	srcLen, off := float64(utf8.RuneCountInString(m.Text)), 0
	for _, p := range srcPieces {
		pos := off
		off += utf8.RuneCountInString(p.text)
		if p.span < 0 {
			if strings.TrimSpace(p.text) != "" {
				leading = false
			}
			continue
		}
		if p.span < len(seen) && !seen[p.span] {
			seen[p.span] = true
			if strings.TrimSpace(m.Spans[p.span].Text) == "" {
				// A line break or tab inside the message: back at the
				// same relative place (below), not at an end.
				breaks = append(breaks, p)
				breakAt = append(breakAt, float64(pos)/max(srcLen, 1))
			} else if leading {
				head = append(head, p)
			} else {
				tail = append(tail, p)
			}
			r.Problems = append(r.Problems, fmt.Sprintf("put back missing %q", m.Spans[p.span].Text))
		}
	}
	if len(head) > 0 {
		head = joinPieces(head)
		if len(kept) > 0 {
			head = append(head, piece{" ", -1})
		}
		kept = append(head, kept...)
	}
	if len(tail) > 0 {
		kept = insertTail(kept, tail)
	}
	for i, b := range breaks {
		kept = insertBreak(kept, b, breakAt[i])
	}
	r.Problems = append(r.Problems, m.keepArgumentOrder(kept)...)
	// Expand: text and term pieces may take the accelerator.
	type seg struct {
		text   string
		letter bool // may take the accelerator
	}
	segs := make([]seg, 0, len(kept))
	atStart := true
	for _, p := range kept {
		if p.span < 0 {
			segs = append(segs, seg{p.text, true})
			if strings.TrimSpace(p.text) != "" {
				atStart = endsSentence(p.text)
			}
			continue
		}
		sp := m.Spans[p.span]
		if sp.Kind == SpanCode {
			segs = append(segs, seg{sp.Text, false})
			if strings.TrimSpace(sp.Text) != "" {
				atStart = false
			}
			continue
		}
		segs = append(segs, seg{matchCase(sp.Text, sp.Target, atStart, m.isSourceSentenceStart(p.span)), true})
		atStart = false
	}
	if m.Accel != 0 {
		var texts []string
		var ok []bool
		for _, s := range segs {
			texts = append(texts, s.text)
			ok = append(ok, s.letter)
		}
		if _, placed := findAccel(strings.Join(texts, ""), m.Accel); placed && strings.Join(texts, "") != m.plain {
			// The model wrote the marker itself before a letter: keep it.
		} else if idx, pos, found := m.accelPosition(texts, ok); found {
			texts[idx] = texts[idx][:pos] + string(m.Accel) + texts[idx][pos:]
		} else {
			// No letter to mark (e.g. a CJK translation): the CJK
			// convention, the marked letter in parentheses at the end.
			texts = append(texts, "("+string(m.Accel)+string(unicode.ToUpper(m.AccelLetter))+")")
		}
		r.Text = m.Prefix + strings.Join(texts, "") + m.Suffix
		return r
	}
	var b strings.Builder
	b.WriteString(m.Prefix)
	for _, s := range segs {
		b.WriteString(s.text)
	}
	b.WriteString(m.Suffix)
	r.Text = b.String()
	return r
}

// sequentialRE matches the printf conversions whose arguments are the
// next ones in order (%s, %-5d, %-*s, %.*s; not %1$s, %(x)s or %%).
var sequentialRE = regexp.MustCompile(`^%[-+#0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t|I64|I32)?[diouxXeEfFgGaAcspn]$`)

// orderDependent reports whether a code span takes the next argument in
// order, so a translation must keep such spans in source order.
func orderDependent(s Span) bool { return s.Kind == SpanCode && sequentialRE.MatchString(s.Text) }

// keepArgumentOrder: if the model reordered order-dependent printf
// conversions (%s ... %d -> %d ... %s), the program would pass the
// arguments to the wrong conversions, so they are put back in source
// order at the positions the model chose (the pieces are rewritten in
// place); the change is reported.
func (m *Masked) keepArgumentOrder(kept []piece) []string {
	var at, spans []int
	for i, p := range kept {
		if p.span >= 0 && p.span < len(m.Spans) && orderDependent(m.Spans[p.span]) {
			at = append(at, i)
			spans = append(spans, p.span)
		}
	}
	if slices.IsSorted(spans) {
		return nil
	}
	slices.Sort(spans)
	for k, i := range at {
		kept[i].span = spans[k]
	}
	return []string{"the model reordered printf conversions; they are kept in source order"}
}

// isSourceSentenceStart reports whether span k stands at the start of a
// sentence in the source (so its capital letter says nothing about the
// term's case).
func (m *Masked) isSourceSentenceStart(k int) bool {
	start := true
	for _, p := range splitSentinels(m.Text) {
		if p.span == k {
			return start
		}
		if p.span < 0 && strings.TrimSpace(p.text) != "" {
			start = endsSentence(p.text)
		} else if p.span >= 0 && p.span < len(m.Spans) && strings.TrimSpace(m.Spans[p.span].Text) != "" {
			start = false
		}
	}
	return start
}

// endsSentence: text after which the next word starts a sentence.
func endsSentence(s string) bool {
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	if s == "" {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return strings.ContainsRune(".!?…:", r)
}

// matchCase adapts the glossary target to how the source term was
// written: an all-capital source term gives an all-capital target; a
// target at the start of a sentence of the translation, or a source term
// capitalised in mid-sentence (title case), gets a capital first letter.
// Otherwise the target is used as the glossary writes it.
func matchCase(src, target string, atStart, srcAtStart bool) string {
	if isAllUpper(src) {
		return strings.ToUpper(target)
	}
	first, _ := utf8.DecodeRuneInString(src)
	if atStart || (unicode.IsUpper(first) && !srcAtStart) {
		return capitalise(target)
	}
	return target
}

func isAllUpper(s string) bool {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			if !unicode.IsUpper(r) {
				return false
			}
			n++
		}
	}
	return n > 1
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToTitle(r)) + s[n:]
}

// insertTail adds the missing spans at the end, before the final run of
// punctuation (".", ":", "!", "?", "…") of the last text piece.
func insertTail(kept, tail []piece) []piece {
	if n := len(kept); n > 0 && kept[n-1].span < 0 {
		s := kept[n-1].text
		core := strings.TrimRightFunc(s, func(r rune) bool { return strings.ContainsRune(".:!?…", r) || unicode.IsSpace(r) })
		if core != s && (strings.TrimSpace(core) != "" || n > 1) {
			out := kept[: n-1 : n-1]
			if core != "" {
				out = append(out, piece{core, -1})
			}
			out = append(out, piece{" ", -1})
			out = append(out, joinPieces(tail)...)
			return append(out, piece{s[len(core):], -1})
		}
	}
	if len(kept) > 0 {
		kept = append(kept, piece{" ", -1})
	}
	return append(kept, joinPieces(tail)...)
}

// insertBreak puts a missing whitespace span (a line break, a tab) in
// place of the space of the text nearest to relative position at (0..1),
// or, with no space in the text, at the end of the last text piece
// before its final punctuation.
func insertBreak(kept []piece, b piece, at float64) []piece {
	total := 0
	for _, p := range kept {
		total += utf8.RuneCountInString(p.text)
	}
	target := at * float64(total)
	bestPiece, bestByte, bestDist := -1, 0, 0.0
	off := 0
	for i, p := range kept {
		if p.span >= 0 {
			off += utf8.RuneCountInString(p.text)
			continue
		}
		k := 0
		for j, r := range p.text {
			if r == ' ' {
				d := float64(off+k) - target
				if d < 0 {
					d = -d
				}
				if bestPiece < 0 || d < bestDist {
					bestPiece, bestByte, bestDist = i, j, d
				}
			}
			k++
		}
		off += k
	}
	if bestPiece < 0 {
		return insertTail(kept, []piece{b})
	}
	t := kept[bestPiece].text
	out := append([]piece{}, kept[:bestPiece]...)
	if t[:bestByte] != "" {
		out = append(out, piece{t[:bestByte], -1})
	}
	out = append(out, b)
	if t[bestByte+1:] != "" {
		out = append(out, piece{t[bestByte+1:], -1})
	}
	return append(out, kept[bestPiece+1:]...)
}

// joinPieces separates the missing spans by spaces, in source order.
func joinPieces(ps []piece) []piece {
	var out []piece
	for i, p := range ps {
		if i > 0 {
			out = append(out, piece{" ", -1})
		}
		out = append(out, p)
	}
	return out
}

// accelPosition chooses where the accelerator goes: at its source
// offset when the translation is the source text itself (the identity
// translation keeps the marker where it was); otherwise before
// the first word-initial occurrence of the marked letter (any case), else
// any occurrence of it, else the first letter or digit of the
// translation outside the CJK scripts, else "(_O)" appended. Only
// segments that may take it count.
func (m *Masked) accelPosition(texts []string, ok []bool) (idx, pos int, found bool) {
	if strings.Join(texts, "") == m.plain {
		off := 0
		for i, s := range texts {
			if m.accelAt >= off && m.accelAt < off+len(s) && ok[i] {
				return i, m.accelAt - off, true
			}
			off += len(s)
		}
	}
	lower := unicode.ToLower(m.AccelLetter)
	tries := []func(prev, r rune) bool{
		func(prev, r rune) bool { return unicode.ToLower(r) == lower && !isWordRune(prev) },
		func(prev, r rune) bool { return unicode.ToLower(r) == lower },
		func(prev, r rune) bool { return isWordRune(r) && !unicode.In(r, cjk...) },
	}
	for _, try := range tries {
		prev := rune(' ')
		for i, s := range texts {
			for j, r := range s {
				if ok[i] && try(prev, r) {
					return i, j, true
				}
				prev = r
			}
		}
	}
	return 0, 0, false
}

// cjk are the scripts whose translations mark the accelerator as
// "(_O)" after the text rather than on one of their characters.
var cjk = []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// dropStraySentinels removes sentinels from a translation whose source
// had none.
func dropStraySentinels(t string) (string, []string) {
	var probs []string
	out := sentinelRE.ReplaceAllStringFunc(t, func(x string) string {
		probs = append(probs, fmt.Sprintf("removed unknown sentinel %s", x))
		return ""
	})
	return out, probs
}

// HasText reports whether the masked message has anything to translate
// (a letter outside the sentinels); "%s: %s" or "…" has not.
func (m *Masked) HasText() bool {
	for _, p := range splitSentinels(m.Text) {
		if p.span >= 0 {
			if p.span < len(m.Spans) && m.Spans[p.span].Kind == SpanTerm {
				return true
			}
			continue
		}
		for _, r := range p.text {
			if unicode.IsLetter(r) {
				return true
			}
		}
	}
	return false
}
