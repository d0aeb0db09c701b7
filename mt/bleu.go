package mt

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode"
)

// SacreBLEUVersion is the sacreBLEU major version whose default
// computation BLEU and CHRF reproduce; it ends every signature.
const SacreBLEUVersion = "2.x"

// BLEU computes corpus BLEU (Papineni et al. 2002) exactly as sacreBLEU
// 2.x does (Post 2018). The zero value is sacreBLEU's default: 13a
// tokenisation, n-grams up to 4, exponential smoothing, case-sensitive,
// no effective order, brevity penalty against the closest reference length.
type BLEU struct {
	// Tokenize: "13a" (default, "" means 13a) or "none" (split on
	// whitespace only).
	Tokenize string
	// Smooth: "exp" (default, ""), "none", "floor" or "add-k".
	Smooth string
	// SmoothValue for floor (default 0.1) and add-k (default 1); a
	// negative value selects the default (0 is a valid floor).
	SmoothValue float64
	// Lowercase compares case-insensitively.
	Lowercase bool
	// EffectiveOrder averages only over the n-gram orders the hypothesis
	// has (sacreBLEU uses it for sentence BLEU).
	EffectiveOrder bool
	// MaxOrder is the largest n-gram order (default 4).
	MaxOrder int
}

// BLEUScore is a corpus BLEU score with its parts.
type BLEUScore struct {
	Score          float64   // 0..100
	Counts, Totals []float64 // matched and hypothesis n-grams per order
	Precisions     []float64 // per order, 0..100 (smoothed)
	BP             float64   // brevity penalty
	SysLen, RefLen float64
	signature      string
}

// Signature is sacreBLEU's reproducibility signature of the score.
func (s BLEUScore) Signature() string { return s.signature }

// String formats the score as sacreBLEU does.
func (s BLEUScore) String() string {
	p := make([]string, len(s.Precisions))
	for i, v := range s.Precisions {
		p[i] = fmt.Sprintf("%.1f", v)
	}
	ratio := 0.0
	if s.RefLen > 0 {
		ratio = s.SysLen / s.RefLen
	}
	return fmt.Sprintf("BLEU = %.2f %s (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)",
		s.Score, strings.Join(p, "/"), s.BP, ratio, int(s.SysLen), int(s.RefLen))
}

func (b BLEU) order() int {
	if b.MaxOrder <= 0 {
		return 4
	}
	return b.MaxOrder
}

func (b BLEU) smooth() (string, float64) {
	m := b.Smooth
	if m == "" {
		m = "exp"
	}
	v := b.SmoothValue
	if v < 0 {
		switch m {
		case "floor":
			v = 0.1
		case "add-k":
			v = 1
		}
	}
	return m, v
}

func (b BLEU) check() error {
	switch b.Tokenize {
	case "", "13a", "none":
	default:
		return fmt.Errorf("mt: BLEU tokenizer %q, want 13a or none", b.Tokenize)
	}
	switch m, _ := b.smooth(); m {
	case "exp", "none", "floor", "add-k":
	default:
		return fmt.Errorf("mt: BLEU smoothing %q, want exp, none, floor or add-k", m)
	}
	return nil
}

// DefaultBLEU is sacreBLEU's default BLEU (SmoothValue -1 picks the
// method's default value).
func DefaultBLEU() BLEU { return BLEU{SmoothValue: -1} }

// Name is "BLEU".
func (b BLEU) Name() string { return "BLEU" }

// Signature is sacreBLEU's signature for nrefs references per segment,
// e.g. nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x.
func (b BLEU) Signature(nrefs int) string {
	tok := b.Tokenize
	if tok == "" {
		tok = "13a"
	}
	m, v := b.smooth()
	if m == "floor" || m == "add-k" {
		m = fmt.Sprintf("%s[%.2f]", m, v)
	}
	return fmt.Sprintf("nrefs:%s|case:%s|eff:%s|tok:%s|smooth:%s|version:%s",
		nrefsString(nrefs), caseString(b.Lowercase), yesNo(b.EffectiveOrder), tok, m, SacreBLEUVersion)
}

func nrefsString(n int) string {
	if n < 0 {
		return "var"
	}
	return fmt.Sprint(n)
}

func caseString(lc bool) string {
	if lc {
		return "lc"
	}
	return "mixed"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// isPySpace reports whether Python's str.isspace() holds for r, the
// whitespace sacreBLEU's str.split() and str.strip() use: Go's
// unicode.IsSpace plus the ASCII separators U+001C..U+001F.
func isPySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

var (
	re13aPunct  = regexp.MustCompile(`([\{-\~\[-\x60 -\&\(-\+\:-\@\/])`)
	re13aPeriod = regexp.MustCompile(`([^0-9])([\.,])`)
	re13aComma  = regexp.MustCompile(`([\.,])([^0-9])`)
	re13aDash   = regexp.MustCompile(`([0-9])(-)`)
)

// Tokenize13a is the mteval-v13a tokenisation of sacreBLEU's default
// BLEU: a few SGML entities unescaped, punctuation split off, periods and
// commas split unless next to a digit, dashes after a digit split, and
// runs of whitespace collapsed to one space.
func Tokenize13a(line string) string {
	line = strings.ReplaceAll(line, "<skipped>", "")
	line = strings.ReplaceAll(line, "-\n", "")
	line = strings.ReplaceAll(line, "\n", " ")
	line = strings.ReplaceAll(line, "&quot;", `"`)
	line = strings.ReplaceAll(line, "&amp;", "&")
	line = strings.ReplaceAll(line, "&lt;", "<")
	line = strings.ReplaceAll(line, "&gt;", ">")
	line = " " + line + " "
	line = re13aPunct.ReplaceAllString(line, " ${1} ")
	line = re13aPeriod.ReplaceAllString(line, "${1} ${2} ")
	line = re13aComma.ReplaceAllString(line, " ${1} ${2}")
	line = re13aDash.ReplaceAllString(line, "${1} ${2} ")
	return strings.Join(strings.FieldsFunc(line, isPySpace), " ")
}

func (b BLEU) tokens(s string) []string {
	if b.Lowercase {
		s = strings.ToLower(s)
	}
	s = strings.TrimRightFunc(s, isPySpace)
	if b.Tokenize != "none" {
		s = Tokenize13a(s)
	}
	return strings.FieldsFunc(s, isPySpace)
}

// ngramCounts counts the n-grams of toks for n = 1..order; keys are the
// token ids (4 bytes each), one map per order.
func ngramCounts(ids []uint32, order int) []map[string]int {
	out := make([]map[string]int, order)
	buf := make([]byte, 4*order)
	for n := 1; n <= order; n++ {
		m := make(map[string]int)
		for i := 0; i+n <= len(ids); i++ {
			for j := 0; j < n; j++ {
				v := ids[i+j]
				buf[4*j], buf[4*j+1], buf[4*j+2], buf[4*j+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
			}
			m[string(buf[:4*n])]++
		}
		out[n-1] = m
	}
	return out
}

// SentenceStats returns one segment's sufficient statistics:
// [hyp_len, ref_len, correct_1..N, total_1..N]. ref_len is the closest
// reference length (ties: the shorter); a reference n-gram counts up to its
// largest count in any one reference.
func (b BLEU) SentenceStats(hyp string, refs []string) []float64 {
	order := b.order()
	vocab := map[string]uint32{}
	intern := func(toks []string) []uint32 {
		ids := make([]uint32, len(toks))
		for i, t := range toks {
			id, ok := vocab[t]
			if !ok {
				id = uint32(len(vocab))
				vocab[t] = id
			}
			ids[i] = id
		}
		return ids
	}
	h := intern(b.tokens(hyp))
	maxRef := make([]map[string]int, order)
	for i := range maxRef {
		maxRef[i] = map[string]int{}
	}
	closestDiff, closestLen := -1, -1
	for _, r := range refs {
		ids := intern(b.tokens(r))
		diff := abs(len(h) - len(ids))
		if closestDiff == -1 || diff < closestDiff {
			closestDiff, closestLen = diff, len(ids)
		} else if diff == closestDiff && len(ids) < closestLen {
			closestLen = len(ids)
		}
		for n, m := range ngramCounts(ids, order) {
			for k, c := range m {
				if c > maxRef[n][k] {
					maxRef[n][k] = c
				}
			}
		}
	}
	if closestLen < 0 {
		closestLen = 0
	}
	st := make([]float64, 2+2*order)
	st[0], st[1] = float64(len(h)), float64(closestLen)
	for n, m := range ngramCounts(h, order) {
		correct := 0
		for k, c := range m {
			correct += min(c, maxRef[n][k])
		}
		st[2+n] = float64(correct)
		st[2+order+n] = float64(max(0, len(h)-n))
	}
	return st
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// ScoreFromStats computes BLEU from summed sufficient statistics.
func (b BLEU) ScoreFromStats(st []float64) float64 { return b.fromStats(st, 0).Score }

// fromStats is sacreBLEU's compute_bleu on [sys_len, ref_len, correct...,
// total...].
func (b BLEU) fromStats(st []float64, nrefs int) BLEUScore {
	order := b.order()
	sysLen, refLen := st[0], st[1]
	correct := append([]float64(nil), st[2:2+order]...)
	total := append([]float64(nil), st[2+order:2+2*order]...)
	method, value := b.smooth()
	prec := make([]float64, order)
	smoothMteval := 1.0
	eff := order
	for n := 1; n <= order; n++ {
		if method == "add-k" && n > 1 {
			correct[n-1] += value
			total[n-1] += value
		}
		if total[n-1] == 0 {
			break
		}
		if b.EffectiveOrder {
			eff = n
		}
		if correct[n-1] == 0 {
			switch method {
			case "exp":
				smoothMteval *= 2
				prec[n-1] = 100 / (smoothMteval * total[n-1])
			case "floor":
				prec[n-1] = 100 * value / total[n-1]
			}
		} else {
			prec[n-1] = 100 * correct[n-1] / total[n-1]
		}
	}
	bp := 1.0
	if sysLen < refLen {
		bp = 0
		if sysLen > 0 {
			bp = math.Exp(1 - refLen/sysLen)
		}
	}
	sum := 0.0
	for _, p := range prec[:eff] {
		if p == 0 {
			sum += -9999999999 // sacreBLEU's log(0)
		} else {
			sum += math.Log(p)
		}
	}
	return BLEUScore{
		Score: bp * math.Exp(sum/float64(eff)), Counts: correct, Totals: total, Precisions: prec,
		BP: bp, SysLen: sysLen, RefLen: refLen, signature: b.Signature(nrefs),
	}
}

// ErrEmptyCorpus is returned when a corpus has no segments.
var ErrEmptyCorpus = errors.New("mt: empty corpus (no segments to score)")

// checkCorpus validates sacreBLEU's layout: refs[k][i] is reference k of
// segment i. It returns the number of references per segment, or -1
// ("var") when some segments have fewer non-empty references than others.
func checkCorpus(hyps []string, refs [][]string) (int, error) {
	if len(hyps) == 0 {
		return 0, ErrEmptyCorpus
	}
	if len(refs) == 0 {
		return 0, errors.New("mt: no reference stream")
	}
	for k, r := range refs {
		if len(r) != len(hyps) {
			return 0, fmt.Errorf("mt: reference stream %d has %d segments, the hypotheses %d", k+1, len(r), len(hyps))
		}
	}
	for i := range hyps {
		if len(segmentRefs(refs, i)) != len(refs) {
			return -1, nil
		}
	}
	return len(refs), nil
}

// segmentRefs are segment i's references. Like sacreBLEU, an empty
// reference means "no reference here" (variable number of references),
// unless every reference of the segment is empty.
func segmentRefs(refs [][]string, i int) []string {
	out := make([]string, 0, len(refs))
	for k := range refs {
		if refs[k][i] != "" {
			out = append(out, refs[k][i])
		}
	}
	if len(out) == 0 {
		out = append(out, "")
	}
	return out
}

// Corpus scores hypotheses against reference streams: refs[k][i] is the
// k-th reference of segment i (sacreBLEU's layout).
func (b BLEU) Corpus(hyps []string, refs [][]string) (BLEUScore, error) {
	if err := b.check(); err != nil {
		return BLEUScore{}, err
	}
	nrefs, err := checkCorpus(hyps, refs)
	if err != nil {
		return BLEUScore{}, err
	}
	sum := make([]float64, 2+2*b.order())
	for i, h := range hyps {
		for j, v := range b.SentenceStats(h, segmentRefs(refs, i)) {
			sum[j] += v
		}
	}
	return b.fromStats(sum, nrefs), nil
}

// Sentence scores one segment (sacreBLEU's sentence_bleu uses
// EffectiveOrder: true).
func (b BLEU) Sentence(hyp string, refs []string) (BLEUScore, error) {
	if err := b.check(); err != nil {
		return BLEUScore{}, err
	}
	if len(refs) == 0 {
		return BLEUScore{}, errors.New("mt: no reference")
	}
	return b.fromStats(b.SentenceStats(hyp, refs), len(refs)), nil
}
