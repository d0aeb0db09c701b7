package mt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/metalearn/metalearn/data"
)

// ModelEvalOptions configures EvaluateModel.
type ModelEvalOptions struct {
	// Test, when set, is the test set instead of lo-mt: a .tsv, .tmx,
	// .po/.pot or .mo file read for both sides (the source side as
	// ReadReferences reads it with SourceSide), or the prefix of a
	// Moses-style pair of files <prefix>.<src> and <prefix>.<tgt>.
	Test string
	// Data is the lo-mt folder, Split "dev" or "test", Pairs the
	// directions to translate and score (any X->Y of the model's
	// languages, zero-shot ones included: X->Y references come from
	// joining en-X and en-Y on id).
	Data, Split string
	Pairs       []string
	// Pivot, when set (e.g. "en"), translates X->Y as X->Pivot->Y.
	Pivot string
	// MaxSentences scores only the first sentences of each pair (0: all).
	MaxSentences int
	Translate    TranslateOptions
	// Eval configures the metrics and bootstrap (Hyp and Refs unused).
	Eval EvalOptions
	// HypDir, when set, receives each pair's translations as
	// <split>.<pair>.txt (pivoted: <split>.<pair>.via-<pivot>.txt), one
	// line per sentence.
	HypDir string
}

// PairReport is one direction's evaluation.
type PairReport struct {
	Pair    string      `json:"pair"`
	Pivot   string      `json:"pivot,omitempty"`
	Seconds float64     `json:"translate_seconds"`
	Report  *EvalReport `json:"report"`
}

// EvaluateModel translates the lo-mt Split of every pair with m and
// scores the translations (BLEU and chrF with signatures and bootstrap
// CIs, through Evaluate).
func EvaluateModel(m *Model, o ModelEvalOptions) ([]PairReport, error) {
	if o.Test == "" && o.Split != "dev" && o.Split != "test" {
		return nil, fmt.Errorf("mt eval: split %q, want dev or test (the training split is not for evaluation)", o.Split)
	}
	if len(o.Pairs) == 0 {
		return nil, fmt.Errorf("mt eval: no language pairs (want e.g. --pairs en-de,de-en)")
	}
	var out []PairReport
	for _, p := range o.Pairs {
		src, tgt, err := ParsePair(p)
		if err != nil {
			return nil, err
		}
		hops := []string{tgt}
		if o.Pivot != "" && o.Pivot != src && o.Pivot != tgt {
			hops = []string{o.Pivot, tgt}
		}
		for _, h := range hops {
			if err := m.CanTranslateInto(h); err != nil {
				return nil, fmt.Errorf("mt eval %s: %w", p, err)
			}
		}
		segs, err := testSegments(o, src, tgt)
		if err != nil {
			return nil, fmt.Errorf("mt eval: %w", err)
		}
		if len(segs) == 0 {
			return nil, fmt.Errorf("mt eval %s: the test set has no segments", p)
		}
		if o.MaxSentences > 0 && len(segs) > o.MaxSentences {
			segs = segs[:o.MaxSentences]
		}
		text := make([]string, len(segs))
		refs := make([]string, len(segs))
		for i, s := range segs {
			text[i], refs[i] = s.Source, s.Target
		}
		start := time.Now()
		for _, h := range hops {
			tr, err := m.Translate(text, h, o.Translate)
			if err != nil {
				return nil, fmt.Errorf("mt eval %s: %w", p, err)
			}
			for i := range tr {
				text[i] = tr[i][0].Text
			}
		}
		secs := time.Since(start).Seconds()
		if o.HypDir != "" {
			if err := os.MkdirAll(o.HypDir, 0o755); err != nil {
				return nil, err
			}
			name := fmt.Sprintf("%s.%s.txt", o.Split, p)
			if len(hops) == 2 {
				name = fmt.Sprintf("%s.%s.via-%s.txt", o.Split, p, o.Pivot)
			}
			path := filepath.Join(o.HypDir, name)
			if err := os.WriteFile(path, []byte(strings.Join(text, "\n")+"\n"), 0o644); err != nil {
				return nil, err
			}
		}
		rep, err := Evaluate(text, [][]string{refs}, nil, o.Eval)
		if err != nil {
			return nil, fmt.Errorf("mt eval %s: %w", p, err)
		}
		pr := PairReport{Pair: p, Seconds: secs, Report: rep}
		if len(hops) == 2 {
			pr.Pivot = o.Pivot
		}
		out = append(out, pr)
	}
	return out, nil
}

// testSegments reads the test set of one direction.
func testSegments(o ModelEvalOptions, src, tgt string) ([]data.Segment, error) {
	if o.Test == "" {
		return data.LoadLoMTPair(o.Data, o.Split, src, tgt)
	}
	switch strings.ToLower(filepath.Ext(o.Test)) {
	case ".tsv", ".tmx", ".po", ".pot", ".mo":
		eo := EvalOptions{SrcLang: src, TgtLang: tgt, WithFuzzy: o.Eval.WithFuzzy}
		refs, err := ReadReferences(o.Test, eo)
		if err != nil {
			return nil, err
		}
		eo.SourceSide = true
		srcs, err := ReadReferences(o.Test, eo)
		if err != nil {
			return nil, err
		}
		if len(srcs) != len(refs) {
			return nil, fmt.Errorf("%s: %d source segments but %d references", o.Test, len(srcs), len(refs))
		}
		segs := make([]data.Segment, len(refs))
		for i := range refs {
			segs[i] = data.Segment{Source: srcs[i], Target: refs[i]}
		}
		return segs, nil
	}
	return data.ReadMoses(o.Test, src, tgt)
}
