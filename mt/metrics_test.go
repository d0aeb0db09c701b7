package mt

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// The sacreBLEU README example: three segments, two reference streams.
var (
	exRefs = [][]string{
		{"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
		{"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."},
	}
	exHyps = []string{"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."}
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Published values from sacreBLEU's own test suite (test/test_bleu.py).
func TestBLEUPublished(t *testing.T) {
	raw := BLEU{Tokenize: "none", Smooth: "floor", SmoothValue: 0.01, EffectiveOrder: true}
	cases := []struct {
		name string
		b    BLEU
		hyps []string
		refs [][]string
		want float64 // sacreBLEU score (0..100)
	}{
		{"default", DefaultBLEU(), exHyps, exRefs, 48.530827},
		{"empty hyps kept", DefaultBLEU(), []string{"", "", ""}, exRefs, 0},
		{"tok none", BLEU{Tokenize: "none"}, exHyps, exRefs, 49.1919566},
		{"tok 13a", BLEU{Tokenize: "13a"}, exHyps, exRefs, 48.530827},
		{"smooth none", BLEU{Smooth: "none"}, exHyps, exRefs, 48.530827},
		{"raw 1", raw, []string{"this is a test", "another test"}, [][]string{{"ref1", "ref2"}}, 0.3799178428257963},
		{"raw 2", raw, []string{"this is a test"}, [][]string{{"this is a test"}}, 100},
		{"raw 3", raw, []string{"this is a fest"}, [][]string{{"this is a test"}}, 22.3606797749979},
		{"eff 1", raw, []string{"test"}, [][]string{{"a test"}}, 36.78794411714425},
		{"eff 2", raw, []string{"a test"}, [][]string{{"a test"}}, 100},
		{"eff 3", raw, []string{"a little test"}, [][]string{{"a test"}}, 3.218297948685433},
		{"variable refs", DefaultBLEU(), exHyps, [][]string{{"", exRefs[0][1], exRefs[0][2]}, exRefs[1]}, 29.44},
		{"offset 0", BLEU{Tokenize: "none", Smooth: "floor", SmoothValue: 0, EffectiveOrder: true},
			[]string{"am I am a character sequence"}, [][]string{{"I am a symbol string sequence a a"}}, 0},
		{"offset default", BLEU{Tokenize: "none", Smooth: "floor", SmoothValue: -1, EffectiveOrder: true},
			[]string{"am I am a character sequence"}, [][]string{{"I am a symbol string sequence a a"}}, 15.55722182},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := c.b.Corpus(c.hyps, c.refs)
			if err != nil {
				t.Fatal(err)
			}
			tol := 1e-6
			if c.name == "variable refs" {
				tol = 0.005 // the README prints two decimals
				if s.Signature() != "nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x" || s.String() != "BLEU = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895 hyp_len = 17 ref_len = 19)" {
					t.Fatalf("%s %s", s, s.Signature())
				}
			}
			if c.name == "default" && s.String() != "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)" {
				t.Fatalf("format %s", s)
			}
			if !near(s.Score, c.want, tol) {
				t.Fatalf("BLEU = %.10f, want %.10f (%s)", s.Score, c.want, s)
			}
		})
	}
}

func TestBLEUStatistics(t *testing.T) {
	b := BLEU{Tokenize: "none"}
	st := b.SentenceStats("am I am a character sequence", []string{"I am a symbol string sequence a a"})
	want := []float64{6, 8, 4, 2, 1, 0, 6, 5, 4, 3}
	for i := range want {
		if st[i] != want[i] {
			t.Fatalf("stats %v, want %v", st, want)
		}
	}
	// compute_bleu([9,7,5,3], [10,8,6,4], 11, 11) = 0.8375922397.
	if got := b.ScoreFromStats([]float64{11, 11, 9, 7, 5, 3, 10, 8, 6, 4}); !near(got, 83.75922397, 1e-6) {
		t.Fatalf("score from stats %v", got)
	}
	degenerate := []struct {
		st    []float64
		floor float64
	}{
		{[]float64{0, 1, 0, 0, 0, 0, 4, 4, 2, 1}, 0},
		{[]float64{14, 10, 0, 0, 0, 0, 10, 11, 12, 0}, 0},
		{[]float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0},
		{[]float64{6, 6, 6, 5, 4, 0, 6, 5, 4, 3}, 0},
		{[]float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0.1},
		{[]float64{1, 5, 0, 0, 0, 0, 0, 0, 0, 0}, 0.01},
	}
	for _, d := range degenerate {
		if got := (BLEU{Smooth: "floor", SmoothValue: d.floor}).ScoreFromStats(d.st); got != 0 {
			t.Errorf("degenerate %v: %v, want 0", d.st, got)
		}
	}
}

// Hand-worked edge cases.
func TestBLEUEdgeCases(t *testing.T) {
	b := DefaultBLEU()
	if _, err := b.Corpus(nil, [][]string{{}}); !errors.Is(err, ErrEmptyCorpus) {
		t.Fatalf("empty corpus: %v", err)
	}
	if _, err := b.Corpus([]string{"a"}, [][]string{{"a", "b"}}); err == nil {
		t.Fatal("length mismatch accepted")
	}
	if _, err := (BLEU{Tokenize: "intl"}).Corpus([]string{"a"}, [][]string{{"a"}}); err == nil {
		t.Fatal("unknown tokenizer accepted")
	}
	// Empty hypothesis: BP = 0, score 0.
	s, _ := b.Corpus([]string{""}, [][]string{{"the cat"}})
	if s.Score != 0 || s.BP != 0 || s.SysLen != 0 || s.RefLen != 2 {
		t.Fatalf("empty hypothesis: %+v", s)
	}
	// No matches at all: exp smoothing gives 100/(2^n * total) for each
	// order, so 4 tokens vs 4 other tokens: p = 100/8, 100/12, 100/16, 100/8.
	s, _ = b.Corpus([]string{"w x y z"}, [][]string{{"a b c d"}})
	want := math.Exp((math.Log(100.0/8) + math.Log(100.0/12) + math.Log(100.0/16) + math.Log(100.0/16)) / 4)
	if !near(s.Score, want, 1e-9) {
		t.Fatalf("no matches: %v, want %v", s.Score, want)
	}
	// One-word reference and hypothesis equal: 1-gram precision 100, no
	// higher orders -> total 0 -> log(0) term: corpus BLEU 0 (as
	// sacreBLEU), sentence BLEU with effective order 100.
	s, _ = b.Corpus([]string{"Open"}, [][]string{{"Open"}})
	if s.Score != 0 {
		t.Fatalf("one word corpus BLEU %v, want 0", s.Score)
	}
	e := b
	e.EffectiveOrder = true
	s1, _ := e.Sentence("Open", []string{"Open"})
	if !near(s1.Score, 100, 1e-9) {
		t.Fatalf("one word sentence BLEU %v, want 100", s1.Score)
	}
	// Closest reference length: tie goes to the shorter.
	st := b.SentenceStats("a b c", []string{"a b", "a b c d"})
	if st[1] != 2 {
		t.Fatalf("closest ref len %v, want 2", st[1])
	}
	if sig := s.Signature(); sig != "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x" {
		t.Fatalf("signature %q", sig)
	}
}

func TestTokenize13a(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Hello, world.", "Hello , world ."},
		{"It costs $3,000.50 now.", "It costs $ 3,000.50 now ."},
		{"1-2 a-b", "1 - 2 a-b"},
		{"&quot;x&quot; &amp;lt;", `" x " <`},
		{"don't (stop)", "don't ( stop )"},
		{"  a\u00a0b\x1cc  ", "a b c"},
		{"line-\nbreak\nhere", "linebreak here"},
		{"<skipped>x", "x"},
		{"a.b,c", "a . b , c"},
		{"", ""},
	}
	for _, c := range cases {
		if got := Tokenize13a(c.in); got != c.want {
			t.Errorf("Tokenize13a(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Published values from sacreBLEU's test/test_chrf.py.
func TestCHRFPublished(t *testing.T) {
	eps3 := CHRF{Beta: 3, EpsSmoothing: true}
	eff3 := CHRF{Beta: 3}
	cases := []struct {
		c          CHRF
		hyps, refs []string
		want       float64
	}{
		{eps3, []string{"abcdefg"}, []string{"hijklmnop"}, 0},
		{eps3, []string{"a"}, []string{"b"}, 0},
		{eps3, []string{""}, []string{"b"}, 0},
		{eps3, []string{""}, []string{"ref"}, 0},
		{eps3, []string{""}, []string{"reference"}, 0},
		{eps3, []string{"aa"}, []string{"ab"}, 8.3333},
		{eps3, []string{"a", "b"}, []string{"a", "c"}, 8.3333},
		{eps3, []string{"a"}, []string{"a"}, 16.6667},
		{eps3, []string{"a b c"}, []string{"a b c"}, 50},
		{eps3, []string{"a b c"}, []string{"abc"}, 50},
		{eps3, []string{" risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists ."},
			[]string{"risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists ."}, 63.361730},
		{eps3, []string{" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "},
			[]string{"Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."}, 64.1302698},
		{eps3, []string{"Niemand hat die Absicht, eine Mauer zu errichten"}, []string{"Niemand hat die Absicht, eine Mauer zu errichten"}, 100},
		{eff3, []string{"a"}, []string{"a"}, 100},
		{eff3, []string{""}, []string{"reference"}, 0},
		{eff3, []string{"a b c"}, []string{"a b c"}, 100},
		{eff3, []string{"a b c"}, []string{"abc"}, 100},
		{eff3, []string{""}, []string{"c"}, 0},
		{eff3, []string{"a", "b"}, []string{"a", "c"}, 50},
		{eff3, []string{"aa"}, []string{"ab"}, 25},
	}
	for i, c := range cases {
		s, err := c.c.Corpus(c.hyps, [][]string{c.refs})
		if err != nil {
			t.Fatal(err)
		}
		if !near(s.Score, c.want, 1e-4) {
			t.Errorf("case %d %q: chrF = %.7f, want %.7f", i, c.hyps, s.Score, c.want)
		}
	}
	// sacreBLEU's README: the BLEU example with chrF's defaults.
	if s, _ := (CHRF{}).Corpus(exHyps, exRefs); s.String() != "chrF2 = 59.73" {
		t.Errorf("README example: %s, want chrF2 = 59.73", s)
	}
	sentence := []struct {
		hyp, ref string
		want     float64
	}{
		{"Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
			"Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.", 39.14078509},
		{"Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
			"A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.", 31.22557079},
		{"Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
			"Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.", 57.15704367},
	}
	for _, c := range sentence {
		s, err := CHRF{EpsSmoothing: true}.Sentence(c.hyp, []string{c.ref})
		if err != nil {
			t.Fatal(err)
		}
		if !near(s.Score, c.want, 1e-4) {
			t.Errorf("sentence chrF %q = %.8f, want %.8f", c.hyp, s.Score, c.want)
		}
	}
}

// Hand-worked chrF cases with sacreBLEU's defaults (beta 2, effective order).
func TestCHRFEdgeCases(t *testing.T) {
	c := CHRF{}
	if _, err := c.Corpus(nil, [][]string{{}}); !errors.Is(err, ErrEmptyCorpus) {
		t.Fatalf("empty corpus: %v", err)
	}
	// "ab" vs "ac": order 1: P = R = 1/2; order 2: "ab" vs "ac" P = R = 0;
	// both orders effective: P = R = 1/4, F = 1/4.
	s, _ := c.Corpus([]string{"ab"}, [][]string{{"ac"}})
	if !near(s.Score, 25, 1e-12) {
		t.Fatalf("ab/ac: %v", s.Score)
	}
	// Empty hypothesis: no effective order -> 0.
	s, _ = c.Corpus([]string{""}, [][]string{{"Open the file"}})
	if s.Score != 0 {
		t.Fatalf("empty hypothesis: %v", s.Score)
	}
	// Whitespace is removed: "a b" == "ab".
	s, _ = c.Corpus([]string{"a b"}, [][]string{{"ab"}})
	if s.Score != 100 {
		t.Fatalf("whitespace: %v", s.Score)
	}
	// Hypothesis longer than the (one-character) reference: order 1 only,
	// P = 1/3, R = 1: F2 = 5*(1/3)/(4/3+1) = 5/7.
	s, _ = c.Corpus([]string{"abc"}, [][]string{{"a"}})
	if !near(s.Score, 100*5.0/7, 1e-12) {
		t.Fatalf("one-char reference: %v", s.Score)
	}
	// Several references: the best one per segment counts.
	s, _ = c.Corpus([]string{"Open file"}, [][]string{{"Close it"}, {"Open file"}})
	if s.Score != 100 {
		t.Fatalf("multi-ref: %v", s.Score)
	}
	if sig := s.Signature(); sig != "nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x" {
		t.Fatalf("signature %q", sig)
	}
	if s.String() != "chrF2 = 100.00" {
		t.Fatalf("format %q", s.String())
	}
	// The corpus score sums statistics, it is not the mean of sentence scores.
	hyps, refs := []string{"abc", "xyz"}, []string{"abc", "xyzw"}
	s, _ = c.Corpus(hyps, [][]string{refs})
	s1, _ := c.Sentence(hyps[0], []string{refs[0]})
	s2, _ := c.Sentence(hyps[1], []string{refs[1]})
	if near(s.Score, (s1.Score+s2.Score)/2, 1e-9) {
		t.Fatalf("corpus chrF equals the mean of sentence scores (%v)", s.Score)
	}
}

func TestBootstrap(t *testing.T) {
	b := DefaultBLEU()
	hyps := make([]string, 0, 60)
	refs := make([]string, 0, 60)
	for i := 0; i < 20; i++ {
		hyps = append(hyps, exHyps...)
		refs = append(refs, exRefs[0]...)
	}
	st, err := SegmentStats(b, hyps, [][]string{refs})
	if err != nil {
		t.Fatal(err)
	}
	bs := Bootstrap{}
	ci, err := bs.ConfidenceInterval(b, st)
	if err != nil {
		t.Fatal(err)
	}
	full := b.ScoreFromStats(sumStats(st, nil))
	if ci.HalfWidth <= 0 || math.Abs(ci.Mean-full) > 3*ci.HalfWidth {
		t.Fatalf("CI %+v around %v", ci, full)
	}
	ci2, _ := bs.ConfidenceInterval(b, st)
	if ci2 != ci {
		t.Fatal("bootstrap not deterministic for a seed")
	}
	// Two systems that differ in one segment of 60: the difference must not be significant.
	near1 := append([]string(nil), hyps...)
	near1[0] = "The dog bit a man."
	stNear, _ := SegmentStats(b, near1, [][]string{refs})
	same, _ := bs.Paired(b, st, stNear)
	if same.P < 0.05 {
		t.Fatalf("near-identical systems: p = %v", same.P)
	}
	// sacreBLEU's statistic on a system against itself: every resampled
	// difference is 0, none exceeds the actual 0, p = 1/(samples+1).
	self, _ := bs.Paired(b, st, st)
	if self.P != 1.0/1001 {
		t.Fatalf("self comparison p = %v", self.P)
	}
	bad := make([]string, len(hyps))
	for i := range bad {
		bad[i] = "nothing here matches"
	}
	stBad, _ := SegmentStats(b, bad, [][]string{refs})
	pr, _ := bs.Paired(b, stBad, st)
	if pr.P > 0.01 || pr.System <= pr.Baseline {
		t.Fatalf("clear difference: %+v", pr)
	}
	if _, err := bs.Paired(b, st, st[:3]); err == nil {
		t.Fatal("mismatched lengths accepted")
	}
	if _, err := bs.ConfidenceInterval(b, nil); !errors.Is(err, ErrEmptyCorpus) {
		t.Fatal("empty accepted")
	}
}

// The resample indices are NumPy's: values from
// np.random.SeedSequence(12345).generate_state(4, np.uint64),
// default_rng(12345).bit_generator.random_raw(3) and
// default_rng(12345).choice(n, size=...) (NumPy 1.24.2).
func TestNumPyGenerator(t *testing.T) {
	st := seedSequenceState(12345)
	want := [4]uint64{0xb5ae6482a03d837c, 0xbbe2996ffa1f7a2f, 0x64e39a9f37158f94, 0x3ebb0f96a013fd73}
	if st != want {
		t.Fatalf("SeedSequence state %x, want %x", st, want)
	}
	p := newNumPyPCG64(12345)
	for i, w := range []uint64{4193609425186963869, 5843160025838961886, 14708796524633321433} {
		if got := p.next64(); got != w {
			t.Fatalf("random_raw[%d] = %d, want %d", i, got, w)
		}
	}
	idx := Bootstrap{Samples: 2}.indices(3)
	if fmt.Sprint(idx) != "[[2 0 2] [0 0 2]]" {
		t.Fatalf("choice(3, (2,3)) = %v", idx)
	}
	idx = Bootstrap{Samples: 2}.indices(1000)
	// choice(1000, size=(2, 5)) gives [[699 227 788 316 204] [797 642 676 988 391]]:
	// the same stream as the first row of (2, 1000).
	if fmt.Sprint(idx[0][:10]) != "[699 227 788 316 204 797 642 676 988 391]" {
		t.Fatalf("choice(1000, (2,1000)) starts %v", idx[0][:10])
	}
	idx = Bootstrap{}.indices(1000)
	sum := 0
	for _, r := range idx {
		for _, v := range r {
			sum += v
		}
	}
	if fmt.Sprint(idx[999][990:]) != "[53 939 196 916 664 604 70 218 528 919]" || sum != 499074881 {
		t.Fatalf("choice(1000, (1000,1000)): last row ends %v, sum %d", idx[999][990:], sum)
	}
	if got := (Bootstrap{Samples: 3}).indices(1); fmt.Sprint(got) != "[[0] [0] [0]]" {
		t.Fatalf("n = 1: %v", got)
	}
}
