package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/metalearn/metalearn/data"
)

// DemoConfig configures Demo: every "user" is an Omniglot alphabet of the
// Vinyals test split (characters never seen in training, unrotated), who
// sends K labelled examples of N of its characters and asks for the labels
// of Queries more examples per character.
type DemoConfig struct {
	URL     string // http://127.0.0.1:PORT only
	Token   string
	Model   string
	DataDir string // folder holding omniglot/ (default: data.ResolveDir)
	Users   int    // alphabets (default 5)
	Ways    int    // default: the model's, else 5
	Shots   []int  // K values (default 1 and 5)
	Queries int    // per class (default 5)
	Steps   *int   // gradient-based: adaptation steps (default: the model's)
	Arrays  bool   // send arrays instead of base64 PNG
	Seed    uint64
}

// DemoRow is one user and K.
type DemoRow struct {
	User   string  `json:"user"`
	Shots  int     `json:"shots"`
	Before float64 `json:"before"` // accuracy without adaptation (chance for metric-based models)
	After  float64 `json:"after"`
	MS     float64 `json:"adapt_predict_ms"`
}

// DemoReport is the outcome of Demo.
type DemoReport struct {
	Model   string    `json:"model"`
	Kind    string    `json:"kind"`
	Ways    int       `json:"ways"`
	Steps   int       `json:"steps"`
	Rows    []DemoRow `json:"rows"`
	Seconds float64   `json:"seconds"`
}

// Demo runs the adaptation scenario against a server through the HTTP API
// and writes a table to out.
func Demo(ctx context.Context, cfg DemoConfig, out io.Writer) (DemoReport, error) {
	var rep DemoReport
	if _, err := CheckLocalURL(cfg.URL); err != nil {
		return rep, err
	}
	start := time.Now()
	if cfg.DataDir == "" {
		cfg.DataDir = data.ResolveDir("").Path
	}
	if cfg.Users <= 0 {
		cfg.Users = 5
	}
	if len(cfg.Shots) == 0 {
		cfg.Shots = []int{1, 5}
	}
	if cfg.Queries <= 0 {
		cfg.Queries = 5
	}
	c := &Client{BaseURL: cfg.URL, Token: cfg.Token, HTTP: nil}
	info, err := c.Model(ctx, cfg.Model)
	if err != nil {
		return rep, err
	}
	if info.Dataset != "omniglot" {
		return rep, fmt.Errorf("model %s is trained on %s; the demo needs an Omniglot model", cfg.Model, info.Dataset)
	}
	if cfg.Ways == 0 {
		cfg.Ways = info.Ways
		if cfg.Ways == 0 {
			cfg.Ways = 5
		}
	}
	if info.Ways != 0 && cfg.Ways != info.Ways {
		return rep, fmt.Errorf("model %s has a fixed %d-way head; ways = %d", cfg.Model, info.Ways, cfg.Ways)
	}
	for _, k := range cfg.Shots {
		if k < 1 || k+cfg.Queries > 20 {
			return rep, fmt.Errorf("shots %d + queries %d: want shots >= 1 and at most 20 examples per character", k, cfg.Queries)
		}
	}
	_, _, test, err := data.LoadOmniglotVinyals(filepath.Join(cfg.DataDir, "omniglot"), 28)
	if err != nil {
		return rep, err
	}
	// group the unrotated test characters by alphabet
	byAlphabet := map[string][]int{}
	for ci, name := range test.ClassNames {
		parts := strings.Split(name, "/")
		if len(parts) == 3 && parts[2] == "rot000" && len(test.ByClass[ci]) >= 20 {
			byAlphabet[parts[0]] = append(byAlphabet[parts[0]], ci)
		}
	}
	var alphabets []string
	for a, cs := range byAlphabet {
		if len(cs) >= cfg.Ways {
			alphabets = append(alphabets, a)
		}
	}
	sort.Strings(alphabets)
	if len(alphabets) == 0 {
		return rep, errors.New("no test alphabet has enough characters")
	}
	rep = DemoReport{Model: cfg.Model, Kind: info.Kind, Ways: cfg.Ways, Steps: info.DefaultSteps}
	if cfg.Steps != nil {
		rep.Steps = *cfg.Steps
	}
	if info.Kind == KindMetric {
		rep.Steps = 0
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x64656d6f))
	encode := func(img []float32) Input {
		if cfg.Arrays {
			return ArrayInput(img)
		}
		return PNGInput(EncodePNG(img, 28, 28))
	}
	imgs := test.Images.F32()
	fmt.Fprintf(out, "model %s (%s, %s), %d-way, %d queries per class, images as %s\n", cfg.Model, info.Algorithm, info.Kind, cfg.Ways, cfg.Queries, map[bool]string{true: "arrays", false: "base64 PNG"}[cfg.Arrays])
	fmt.Fprintf(out, "%-28s %5s %8s %8s %9s\n", "user (alphabet)", "K", "before", "after", "ms")
	for u := 0; u < min(cfg.Users, len(alphabets)); u++ {
		alpha := alphabets[u]
		chars := append([]int(nil), byAlphabet[alpha]...)
		rng.Shuffle(len(chars), func(i, j int) { chars[i], chars[j] = chars[j], chars[i] })
		chars = chars[:cfg.Ways]
		for _, k := range cfg.Shots {
			var sup Support
			var queries []Input
			var truth []int
			for label, ci := range chars {
				idx := append([]int(nil), test.ByClass[ci]...)
				rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
				for j, ii := range idx[:k+cfg.Queries] {
					in := encode(imgs[ii*784 : (ii+1)*784])
					if j < k {
						sup.Inputs = append(sup.Inputs, in)
						sup.Labels = append(sup.Labels, label)
					} else {
						queries = append(queries, in)
						truth = append(truth, label)
					}
				}
			}
			row := DemoRow{User: alpha, Shots: k, Before: 1 / float64(cfg.Ways)}
			if info.Kind == KindGradient {
				zero := 0
				a, err := c.Adapt(ctx, AdaptRequest{Model: cfg.Model, Support: sup, Steps: &zero})
				if err != nil {
					return rep, err
				}
				p, err := c.Predict(ctx, PredictRequest{ID: a.ID, Inputs: queries})
				if err != nil {
					return rep, err
				}
				row.Before = accuracy(p.Labels, truth)
			}
			t0 := time.Now()
			a, err := c.Adapt(ctx, AdaptRequest{Model: cfg.Model, Support: sup, Steps: cfg.Steps})
			if err != nil {
				return rep, err
			}
			p, err := c.Predict(ctx, PredictRequest{ID: a.ID, Inputs: queries})
			if err != nil {
				return rep, err
			}
			row.MS = float64(time.Since(t0).Microseconds()) / 1000
			row.After = accuracy(p.Labels, truth)
			rep.Rows = append(rep.Rows, row)
			fmt.Fprintf(out, "%-28s %5d %8.3f %8.3f %9.1f\n", alpha, k, row.Before, row.After, row.MS)
		}
	}
	for _, k := range cfg.Shots {
		var b, a float64
		n := 0
		for _, r := range rep.Rows {
			if r.Shots == k {
				b, a, n = b+r.Before, a+r.After, n+1
			}
		}
		fmt.Fprintf(out, "%-28s %5d %8.3f %8.3f\n", "mean", k, b/float64(n), a/float64(n))
	}
	if info.Kind == KindMetric {
		fmt.Fprintln(out, "(metric-based model: \"before\" is chance, 1/N; it has no classifier until it sees the support set)")
	} else {
		fmt.Fprintf(out, "(before: the meta-learned initialisation, 0 steps; after: %d first-order steps on the K examples)\n", rep.Steps)
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

func accuracy(pred, truth []int) float64 {
	if len(truth) == 0 || len(pred) != len(truth) {
		return 0
	}
	n := 0
	for i := range truth {
		if pred[i] == truth[i] {
			n++
		}
	}
	return float64(n) / float64(len(truth))
}
