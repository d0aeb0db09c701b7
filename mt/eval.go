package mt

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/metalearn/metalearn/data"
)

// EvalOptions configures Evaluate / EvaluateFiles.
type EvalOptions struct {
	// Hyp is the hypothesis file (one segment per line); Refs the
	// reference files, each one reference stream (see ReadReferences);
	// Baseline an optional second hypothesis file for the paired test.
	Hyp      string
	Refs     []string
	Baseline string
	// TgtLang selects the reference language of a TMX file (required
	// for TMX); SrcLang, if set, keeps only TMX units that also have it.
	SrcLang, TgtLang string
	// WithFuzzy also takes fuzzy .po entries as references.
	WithFuzzy bool
	// SourceSide takes the references from the source side of a
	// parallel file: the English column of a lo-mt TSV when scoring X->en,
	// the msgid of a .po entry, the SrcLang variant of a TMX unit.
	SourceSide bool
	// Metrics: "bleu", "chrf" (default both, in that order).
	Metrics []string
	// Bootstrap is the number of resamples for the 95% CIs and the
	// paired test: 0 means sacreBLEU's 1000, negative none.
	Bootstrap int
	Seed      uint64
}

// MetricResult is one metric's corpus score, with the bootstrap CI and,
// with a baseline, the paired test.
type MetricResult struct {
	Name      string  `json:"name"`
	Score     float64 `json:"score"`
	Signature string  `json:"signature"`
	// Line is the score formatted as sacreBLEU prints it.
	Line string `json:"line"`
	CI   *CI    `json:"ci,omitempty"`
	// Baseline and P: the baseline's score and the paired bootstrap
	// p-value of the difference.
	Baseline   *float64 `json:"baseline,omitempty"`
	BaselineCI *CI      `json:"baseline_ci,omitempty"`
	P          *float64 `json:"p,omitempty"`
}

// EvalReport is the result of an evaluation.
type EvalReport struct {
	Segments   int            `json:"segments"`
	References int            `json:"references"`
	Samples    int            `json:"bootstrap_samples"`
	Results    []MetricResult `json:"results"`
}

// Format writes the report as text, one metric per line with its
// signature on the next.
func (r *EvalReport) Format(w io.Writer) error {
	for _, m := range r.Results {
		line := m.Line
		if m.CI != nil {
			line += " " + m.CI.String()
		}
		if m.P != nil {
			line += fmt.Sprintf(" baseline %.2f %s, p = %.4f", *m.Baseline, m.BaselineCI, *m.P)
		}
		if _, err := fmt.Fprintf(w, "%s\n  %s\n", line, m.Signature); err != nil {
			return err
		}
	}
	if r.Samples > 0 {
		_, err := fmt.Fprintf(w, "%d segments; 95%% CIs from %d bootstrap resamples", r.Segments, r.Samples)
		if err == nil {
			_, err = fmt.Fprintln(w)
		}
		return err
	}
	return nil
}

// ReadReferences reads the reference side of a test set by extension:
// .tsv the last column (id<TAB>en<TAB>xx or src<TAB>tgt), .tmx the
// tgtLang variants (of the units that also have srcLang, if given), .po/.mo
// the msgstr of translated entries (fuzzy ones with o.WithFuzzy), anything
// else one reference per line (a Moses-style file). With o.SourceSide it
// reads the source side instead: the TSV's middle (or first) column, the
// msgid, the srcLang variant.
func ReadReferences(path string, o EvalOptions) ([]string, error) {
	side := func(segs []data.Segment) []string {
		out := make([]string, len(segs))
		for i, s := range segs {
			out[i] = s.Target
			if o.SourceSide {
				out[i] = s.Source
			}
		}
		return out
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".tsv":
		segs, err := data.ReadParallelTSV(path)
		return side(segs), err
	case ".tmx":
		lang := o.TgtLang
		if o.SourceSide {
			lang = o.SrcLang
		}
		if lang == "" {
			return nil, fmt.Errorf("%s: a TMX reference needs its language (--lang, or --src-lang with --ref-side source)", path)
		}
		units, err := data.ReadTMX(path, data.TMXOptions{})
		if err != nil {
			return nil, err
		}
		other := o.SrcLang
		if o.SourceSide {
			other = o.TgtLang
		}
		if other == "" {
			other = lang
		}
		segs := data.TMXPairs(units, other, lang)
		o.SourceSide = false // TMXPairs put the wanted language on the target side
		return side(segs), nil
	case ".po", ".pot":
		f, err := data.ReadPO(path)
		if err != nil {
			return nil, err
		}
		return side(f.Segments(o.WithFuzzy)), nil
	case ".mo":
		f, err := data.ReadMO(path)
		if err != nil {
			return nil, err
		}
		return side(f.Segments(o.WithFuzzy)), nil
	}
	if o.SourceSide {
		return nil, fmt.Errorf("%s: a plain-text reference has no source side (use it as the reference itself)", path)
	}
	return data.ReadLines(path)
}

func (o EvalOptions) metrics() ([]Metric, error) {
	names := o.Metrics
	if len(names) == 0 {
		names = []string{"bleu", "chrf"}
	}
	var out []Metric
	for _, n := range names {
		switch strings.ToLower(n) {
		case "bleu":
			out = append(out, DefaultBLEU())
		case "chrf":
			out = append(out, CHRF{})
		case "chrf++":
			out = append(out, CHRF{WordOrder: 2})
		default:
			return nil, fmt.Errorf("mt: unknown metric %q (want bleu, chrf or chrf++)", n)
		}
	}
	return out, nil
}

// EvaluateFiles reads the hypothesis, reference and baseline files and
// evaluates them (see Evaluate).
func EvaluateFiles(o EvalOptions) (*EvalReport, error) {
	if o.Hyp == "" || len(o.Refs) == 0 {
		return nil, fmt.Errorf("mt: eval needs a hypothesis file and at least one reference file")
	}
	hyps, err := data.ReadLines(o.Hyp)
	if err != nil {
		return nil, err
	}
	var refs [][]string
	for _, p := range o.Refs {
		r, err := ReadReferences(p, o)
		if err != nil {
			return nil, err
		}
		if len(r) != len(hyps) {
			return nil, fmt.Errorf("mt: %s has %d segments but %s has %d references", o.Hyp, len(hyps), p, len(r))
		}
		refs = append(refs, r)
	}
	var base []string
	if o.Baseline != "" {
		if base, err = data.ReadLines(o.Baseline); err != nil {
			return nil, err
		}
		if len(base) != len(hyps) {
			return nil, fmt.Errorf("mt: baseline %s has %d segments, %s has %d", o.Baseline, len(base), o.Hyp, len(hyps))
		}
	}
	return Evaluate(hyps, refs, base, o)
}

// Evaluate scores hyps against the reference streams refs (refs[k][i]:
// reference k of segment i) with each metric, adds bootstrap 95% CIs and,
// when baseline is not nil, the paired bootstrap test of hyps against it.
func Evaluate(hyps []string, refs [][]string, baseline []string, o EvalOptions) (*EvalReport, error) {
	ms, err := o.metrics()
	if err != nil {
		return nil, err
	}
	nrefs, err := checkCorpus(hyps, refs)
	if err != nil {
		return nil, err
	}
	bs := Bootstrap{Samples: o.Bootstrap, Seed: o.Seed}
	rep := &EvalReport{Segments: len(hyps), References: nrefs}
	if o.Bootstrap >= 0 {
		rep.Samples, _ = bs.params()
	}
	for _, m := range ms {
		st, err := SegmentStats(m, hyps, refs)
		if err != nil {
			return nil, err
		}
		sum := sumStats(st, nil)
		r := MetricResult{Name: m.Name(), Score: m.ScoreFromStats(sum), Signature: m.Signature(nrefs)}
		switch x := m.(type) {
		case BLEU:
			r.Line = x.fromStats(sum, nrefs).String()
		case CHRF:
			r.Line = x.score(sum, nrefs).String()
		}
		if o.Bootstrap >= 0 {
			if baseline != nil {
				bst, err := SegmentStats(m, baseline, refs)
				if err != nil {
					return nil, err
				}
				pr, err := bs.Paired(m, bst, st)
				if err != nil {
					return nil, err
				}
				r.CI, r.BaselineCI, r.Baseline, r.P = &pr.SystemCI, &pr.BaselineCI, &pr.Baseline, &pr.P
			} else {
				ci, err := bs.ConfidenceInterval(m, st)
				if err != nil {
					return nil, err
				}
				r.CI = &ci
			}
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}
