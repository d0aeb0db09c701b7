package mt

import (
	"fmt"
	"strings"
)

// CHRF computes chrF (Popović 2015) exactly as sacreBLEU 2.x does. The
// zero value is sacreBLEU's default: character n-grams of order 1..6, no
// word n-grams, beta = 2, whitespace removed, case-sensitive, and
// sacreBLEU's "effective order" averaging (eps_smoothing off).
//
// Per segment, the statistics are, for every order n, the hypothesis
// n-gram count (0 when the reference has no n-gram of that order), the
// reference n-gram count and the clipped matches; with several references
// the segment keeps the statistics of the reference with the best chrF
// (the first on ties). The corpus score sums the statistics over segments
// and computes one F-score from the sums: precision and recall are each
// averaged over the orders where both the hypothesis and the reference
// have n-grams, and F_beta = (1+beta^2) P R / (beta^2 P + R), times 100.
// A sentence score is the same computation on one segment.
type CHRF struct {
	CharOrder int // default 6
	// WordOrder > 0 adds word n-grams (chrF++ with 2); default 0.
	WordOrder int
	Beta      float64 // default 2
	Lowercase bool
	// Whitespace keeps whitespace inside character n-grams.
	Whitespace bool
	// EpsSmoothing averages per-order F-scores with epsilon smoothing
	// (chrF++.py, NLTK, Moses) instead of the effective-order averaging.
	EpsSmoothing bool
}

// CHRFScore is a chrF score (0..100) with its signature.
type CHRFScore struct {
	Score     float64
	Beta      float64
	WordOrder int
	signature string
}

// Signature is sacreBLEU's reproducibility signature of the score.
func (s CHRFScore) Signature() string { return s.signature }

// Name is chrF<beta> with one + per word order (chrF2, chrF2++).
func (s CHRFScore) Name() string {
	return fmt.Sprintf("chrF%g%s", s.Beta, strings.Repeat("+", s.WordOrder))
}

// String formats the score as sacreBLEU does.
func (s CHRFScore) String() string { return fmt.Sprintf("%s = %.2f", s.Name(), s.Score) }

func (c CHRF) charOrder() int {
	if c.CharOrder <= 0 {
		return 6
	}
	return c.CharOrder
}

func (c CHRF) beta() float64 {
	if c.Beta <= 0 {
		return 2
	}
	return c.Beta
}

func (c CHRF) order() int { return c.charOrder() + max(c.WordOrder, 0) }

// Name is chrF2 (chrF2++ with word order 2).
func (c CHRF) Name() string { return CHRFScore{Beta: c.beta(), WordOrder: max(c.WordOrder, 0)}.Name() }

// Signature is sacreBLEU's chrF signature, e.g.
// nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x.
func (c CHRF) Signature(nrefs int) string {
	return fmt.Sprintf("nrefs:%s|case:%s|eff:%s|nc:%d|nw:%d|space:%s|version:%s",
		nrefsString(nrefs), caseString(c.Lowercase), yesNo(!c.EpsSmoothing), c.charOrder(), max(c.WordOrder, 0), yesNo(c.Whitespace), SacreBLEUVersion)
}

// chrfPuncts is Python's string.punctuation, which chrF++ splits off words.
const chrfPuncts = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// chrfWords splits a segment into words and separates one punctuation
// character from the end (or else the start) of each longer word.
func chrfWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, isPySpace) {
		r := []rune(w)
		switch {
		case len(r) == 1:
			out = append(out, w)
		case strings.ContainsRune(chrfPuncts, r[len(r)-1]):
			out = append(out, string(r[:len(r)-1]), string(r[len(r)-1]))
		case strings.ContainsRune(chrfPuncts, r[0]):
			out = append(out, string(r[0]), string(r[1:]))
		default:
			out = append(out, w)
		}
	}
	return out
}

// ngrams returns one count map per order: character n-grams of orders
// 1..CharOrder, then word n-grams of orders 1..WordOrder.
func (c CHRF) ngrams(s string) []map[string]int {
	if c.Lowercase {
		s = strings.ToLower(s)
	}
	out := make([]map[string]int, 0, c.order())
	line := s
	if !c.Whitespace {
		line = strings.Join(strings.FieldsFunc(s, isPySpace), "")
	}
	r := []rune(line)
	for n := 1; n <= c.charOrder(); n++ {
		m := make(map[string]int, max(len(r)-n+1, 0))
		for i := 0; i+n <= len(r); i++ {
			m[string(r[i:i+n])]++
		}
		out = append(out, m)
	}
	if c.WordOrder > 0 {
		w := chrfWords(s)
		for n := 1; n <= c.WordOrder; n++ {
			m := map[string]int{}
			for i := 0; i+n <= len(w); i++ {
				m[strings.Join(w[i:i+n], " ")]++
			}
			out = append(out, m)
		}
	}
	return out
}

// SentenceStats returns one segment's statistics, [hyp, ref, match] for
// each order, from the best-scoring reference.
func (c CHRF) SentenceStats(hyp string, refs []string) []float64 {
	h := c.ngrams(hyp)
	var best []float64
	bestF := -1.0
	for _, ref := range refs {
		r := c.ngrams(ref)
		st := make([]float64, 0, 3*len(h))
		for n := range h {
			hypCount, match, refCount := 0, 0, 0
			for k, v := range h[n] {
				hypCount += v
				if rv, ok := r[n][k]; ok {
					match += min(v, rv)
				}
			}
			for _, v := range r[n] {
				refCount += v
			}
			if len(r[n]) == 0 {
				hypCount = 0 // sacreBLEU counts no hypothesis n-grams without reference n-grams
			}
			st = append(st, float64(hypCount), float64(refCount), float64(match))
		}
		if f := c.ScoreFromStats(st); f > bestF {
			best, bestF = st, f
		}
	}
	return best
}

// ScoreFromStats computes chrF (0..100) from summed statistics.
func (c CHRF) ScoreFromStats(st []float64) float64 {
	const eps = 1e-16
	factor := c.beta() * c.beta()
	score, avgP, avgR, eff := 0.0, 0.0, 0.0, 0
	order := len(st) / 3
	for i := 0; i < order; i++ {
		nHyp, nRef, nMatch := st[3*i], st[3*i+1], st[3*i+2]
		p, r := eps, eps
		if nHyp > 0 {
			p = nMatch / nHyp
		}
		if nRef > 0 {
			r = nMatch / nRef
		}
		if d := factor*p + r; d > 0 {
			score += (1 + factor) * p * r / d
		} else {
			score += eps
		}
		if nHyp > 0 && nRef > 0 {
			avgP += p
			avgR += r
			eff++
		}
	}
	if c.EpsSmoothing {
		return 100 * score / float64(order)
	}
	if eff == 0 {
		return 0
	}
	avgP /= float64(eff)
	avgR /= float64(eff)
	if avgP+avgR == 0 {
		return 0
	}
	return 100 * (1 + factor) * avgP * avgR / (factor*avgP + avgR)
}

// Corpus scores hypotheses against reference streams (refs[k][i] is the
// k-th reference of segment i).
func (c CHRF) Corpus(hyps []string, refs [][]string) (CHRFScore, error) {
	nrefs, err := checkCorpus(hyps, refs)
	if err != nil {
		return CHRFScore{}, err
	}
	sum := make([]float64, 3*c.order())
	for i, h := range hyps {
		for j, v := range c.SentenceStats(h, segmentRefs(refs, i)) {
			sum[j] += v
		}
	}
	return c.score(sum, nrefs), nil
}

func (c CHRF) score(st []float64, nrefs int) CHRFScore {
	return CHRFScore{Score: c.ScoreFromStats(st), Beta: c.beta(), WordOrder: max(c.WordOrder, 0), signature: c.Signature(nrefs)}
}

// Sentence scores one segment.
func (c CHRF) Sentence(hyp string, refs []string) (CHRFScore, error) {
	if len(refs) == 0 {
		return CHRFScore{}, fmt.Errorf("mt: no reference")
	}
	return c.score(c.SentenceStats(hyp, refs), len(refs)), nil
}
