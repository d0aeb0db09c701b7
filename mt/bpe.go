package mt

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"unicode/utf8"
)

// BPEConfig configures TrainBPE.
type BPEConfig struct {
	// VocabSize is the total number of ids wanted (reserved tokens, the
	// 256 bytes, characters and merges; language tags come on top).
	// Training stops earlier when no pair occurs any more.
	VocabSize int
	// Merges, if > 0, sets the number of merges instead of VocabSize.
	Merges int
	// Temperature T samples languages with probability proportional to
	// n_l^(1/T) (n_l: sentences of language l), so small languages are
	// not drowned: T = 1 is proportional, T -> inf uniform. Default 5.
	// Each sentence is weighted by its language's sampling probability
	// over its share of the data, the expectation of that sampling.
	Temperature float64
	// CharCoverage is the share of character occurrences (weighted) the
	// base characters cover; the rarer characters are left to byte
	// fallback. Default 0.9999.
	CharCoverage float64
	// MaxSentences, if > 0, caps the sentences used per language (a
	// seeded random subset).
	MaxSentences int
	Seed         uint64
}

// weightScale turns the fractional temperature weights into integer
// counts, so pair counts are exact.
const weightScale = 64

// TrainBPE learns a BPE vocabulary (Sennrich et al. 2016) shared by all
// languages from corpus (language -> sentences). It is deterministic for
// a configuration and seed. Words are counted once, with their
// temperature weights; each merge updates only the pair counts of the
// words that contain the merged pair (an index from pairs to positions,
// a max-heap with lazy deletion), so the cost of a merge is proportional
// to its number of occurrences, not to the corpus.
func TrainBPE(corpus map[string][]string, cfg BPEConfig) (*Vocab, error) {
	if len(corpus) == 0 {
		return nil, errors.New("mt: TrainBPE: empty corpus")
	}
	if cfg.Temperature == 0 {
		cfg.Temperature = 5
	}
	if cfg.Temperature < 0 || math.IsNaN(cfg.Temperature) {
		return nil, fmt.Errorf("mt: TrainBPE: temperature %v, want > 0", cfg.Temperature)
	}
	if cfg.CharCoverage == 0 {
		cfg.CharCoverage = 0.9999
	}
	if cfg.CharCoverage <= 0 || cfg.CharCoverage > 1 {
		return nil, fmt.Errorf("mt: TrainBPE: character coverage %v, want in (0, 1]", cfg.CharCoverage)
	}
	langs := make([]string, 0, len(corpus))
	total := 0
	for l, s := range corpus {
		if len(s) > 0 {
			langs = append(langs, l)
		}
	}
	sort.Strings(langs)
	sents := map[string][]string{}
	for _, l := range langs {
		s := corpus[l]
		if cfg.MaxSentences > 0 && len(s) > cfg.MaxSentences {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(len(l))))
			perm := rng.Perm(len(s))[:cfg.MaxSentences]
			slices.Sort(perm)
			sub := make([]string, len(perm))
			for i, p := range perm {
				sub[i] = s[p]
			}
			s = sub
		}
		sents[l] = s
		total += len(s)
	}
	if total == 0 {
		return nil, errors.New("mt: TrainBPE: no sentences")
	}
	// Temperature weights: p_l ∝ (n_l/N)^(1/T); weight = p_l / (n_l/N).
	z := 0.0
	for _, l := range langs {
		z += math.Pow(float64(len(sents[l]))/float64(total), 1/cfg.Temperature)
	}
	words := map[string]int64{}
	for _, l := range langs {
		share := float64(len(sents[l])) / float64(total)
		p := math.Pow(share, 1/cfg.Temperature) / z
		w := int64(math.Round(weightScale * p / share))
		if w < 1 {
			w = 1
		}
		for _, s := range sents[l] {
			for _, word := range splitWords(" " + Normalize(s)) {
				words[word] += w
			}
		}
	}
	return trainFromWords(words, cfg)
}

func trainFromWords(words map[string]int64, cfg BPEConfig) (*Vocab, error) {
	// Base characters by weighted frequency (ties: code point), up to the
	// coverage; the boundary marker always.
	charCount := map[rune]int64{}
	var all int64
	for w, c := range words {
		for _, r := range w {
			if r == ' ' || r == '\u2581' || r == utf8.RuneError {
				continue
			}
			charCount[r] += c
			all += c
		}
	}
	type rc struct {
		r rune
		c int64
	}
	cs := make([]rc, 0, len(charCount))
	for r, c := range charCount {
		cs = append(cs, rc{r, c})
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].c != cs[j].c {
			return cs[i].c > cs[j].c
		}
		return cs[i].r < cs[j].r
	})
	chars := []rune{'\u2581'}
	var covered int64
	for _, x := range cs {
		if all > 0 && float64(covered)/float64(all) >= cfg.CharCoverage {
			break
		}
		chars = append(chars, x.r)
		covered += x.c
	}
	base, err := newVocab(chars, nil, nil)
	if err != nil {
		return nil, err
	}
	nMerges := cfg.Merges
	if nMerges <= 0 {
		nMerges = cfg.VocabSize - base.Size()
	}
	if nMerges < 0 {
		return nil, fmt.Errorf("mt: TrainBPE: vocabulary size %d is below the %d reserved, byte and character ids", cfg.VocabSize, base.Size())
	}

	// The words as linked symbol lists in one array, in sorted word order.
	keys := make([]string, 0, len(words))
	for w := range words {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	var sym []int32    // symbol id per position (-1: removed)
	var next []int32   // next live position in the word, -1 at the end
	var prev []int32   // previous live position, -1 at the start
	var weight []int64 // weight of the word a position belongs to
	for _, w := range keys {
		ids := base.symbols(nil, w)
		start := int32(len(sym))
		for i, id := range ids {
			sym = append(sym, int32(id))
			weight = append(weight, words[w])
			p, n := int32(-1), int32(-1)
			if i > 0 {
				p = start + int32(i) - 1
			}
			if i+1 < len(ids) {
				n = start + int32(i) + 1
			}
			prev = append(prev, p)
			next = append(next, n)
		}
	}
	mergeable := func(id int32) bool { return id >= firstPieceID }
	counts := map[uint64]int64{}
	where := map[uint64][]int32{}
	for i := range sym {
		j := next[i]
		if j < 0 || !mergeable(sym[i]) || !mergeable(sym[j]) {
			continue
		}
		k := pairKey(int(sym[i]), int(sym[j]))
		counts[k] += weight[i]
		where[k] = append(where[k], int32(i))
	}
	h := &pairHeap{}
	for k, c := range counts {
		*h = append(*h, pairCount{k, c})
	}
	heap.Init(h)

	var merges [][2]int
	nextID := int32(base.Size())
	pieceLen := make([]int, base.Size())
	for id := range pieceLen {
		pieceLen[id] = len(base.Piece(id))
	}
	touched := map[uint64]bool{}
	for len(merges) < nMerges && h.Len() > 0 {
		top := heap.Pop(h).(pairCount)
		cur := counts[top.pair]
		if cur != top.count {
			if cur > 0 {
				heap.Push(h, pairCount{top.pair, cur})
			}
			continue
		}
		if cur <= 0 {
			continue
		}
		a, b := int32(top.pair>>32), int32(uint32(top.pair))
		if pieceLen[a]+pieceLen[b] > MaxPieceBytes {
			delete(counts, top.pair) // never merged: too long a piece
			continue
		}
		pieceLen = append(pieceLen, pieceLen[a]+pieceLen[b])
		newID := nextID
		nextID++
		merges = append(merges, [2]int{int(a), int(b)})
		pos := where[top.pair]
		slices.Sort(pos)
		clear(touched)
		add := func(x, y int32, i int32, c int64) {
			if !mergeable(x) || !mergeable(y) {
				return
			}
			k := pairKey(int(x), int(y))
			counts[k] += c
			if c > 0 {
				where[k] = append(where[k], i)
				touched[k] = true
			}
		}
		for _, i := range pos {
			j := next[i]
			if sym[i] != a || j < 0 || sym[j] != b {
				continue // stale: this occurrence was changed by an earlier merge
			}
			w := weight[i]
			if p := prev[i]; p >= 0 {
				add(sym[p], a, p, -w)
				add(sym[p], newID, p, w)
			}
			if n := next[j]; n >= 0 {
				add(b, sym[n], j, -w)
				add(newID, sym[n], i, w)
			}
			sym[i] = newID
			sym[j] = -1
			next[i] = next[j]
			if n := next[j]; n >= 0 {
				prev[n] = i
			}
		}
		delete(counts, top.pair)
		delete(where, top.pair)
		for k := range touched {
			if c := counts[k]; c > 0 {
				heap.Push(h, pairCount{k, c})
			}
		}
	}
	return newVocab(chars, merges, nil)
}

type pairCount struct {
	pair  uint64
	count int64
}

// pairHeap is a max-heap on count; ties go to the smaller pair key, so
// training is deterministic.
type pairHeap []pairCount

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count > h[j].count
	}
	return h[i].pair < h[j].pair
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pairCount)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
