package mtl

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/metalearn/metalearn/runfolder"
)

// ToyStudyConfig is what `metalearn mtl toy` runs: every method from every
// start of ToyStarts on ToyProblem{Scale}.
type ToyStudyConfig struct {
	Scale float64
	// Methods is a comma-separated list of weightings (CheckToyMethod;
	// case and spaces ignored).
	Methods string
	ToyConfig
	// Out receives <method>_x.png|svg, <method>_loss.png|svg and toy.json.
	Out string
	// Run, when set, is called after each run, in order.
	Run func(*ToyRun)
}

// ToyStudy is the outcome of RunToyStudy.
type ToyStudy struct {
	Methods   []string
	Runs      []*ToyRun
	ParetoSet [][2]float64
	Seconds   float64
}

// RunToyStudy checks cfg, runs every method from every start, plots each
// method's paths (PlotRuns) and writes toy.json into cfg.Out.
func RunToyStudy(cfg ToyStudyConfig) (*ToyStudy, error) {
	if cfg.Steps < 1 || !(cfg.LR > 0) || !(cfg.Scale > 0) || !(cfg.Tol > 0) {
		return nil, fmt.Errorf("--steps %d, --lr %v, --scale %v and --tol %v must be positive", cfg.Steps, cfg.LR, cfg.Scale, cfg.Tol)
	}
	st := &ToyStudy{}
	for _, n := range strings.Split(cfg.Methods, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if err := CheckToyMethod(n); err != nil {
			return nil, fmt.Errorf("--methods: %w", err)
		}
		st.Methods = append(st.Methods, n)
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	p := ToyProblem{Scale: cfg.Scale}
	st.ParetoSet = p.ParetoSet(401)
	start := time.Now()
	for _, name := range st.Methods {
		var mruns []*ToyRun
		for _, s := range ToyStarts {
			r, err := p.RunToy(name, s, cfg.ToyConfig)
			if err != nil {
				return nil, err
			}
			mruns = append(mruns, r)
			if cfg.Run != nil {
				cfg.Run(r)
			}
		}
		if err := p.PlotRuns(filepath.Join(cfg.Out, name), name, mruns, st.ParetoSet); err != nil {
			return nil, err
		}
		st.Runs = append(st.Runs, mruns...)
	}
	st.Seconds = time.Since(start).Seconds()
	doc := map[string]any{"problem": "CAGrad toy (Liu et al. 2021)", "scale": cfg.Scale, "lr": cfg.LR, "steps": cfg.Steps, "tol": cfg.Tol,
		"pareto_set": st.ParetoSet, "runs": st.Runs, "seconds": st.Seconds}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := runfolder.WriteFileAtomic(filepath.Join(cfg.Out, "toy.json"), append(b, '\n')); err != nil {
		return nil, err
	}
	return st, nil
}

// Reached counts the runs of method that reached the Pareto front, and
// its runs.
func (st *ToyStudy) Reached(method string) (n, total int) {
	for _, r := range st.Runs {
		if r.Method == method {
			total++
			if r.Reached {
				n++
			}
		}
	}
	return n, total
}
