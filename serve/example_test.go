package serve_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/serve"
)

// A sinusoid MAML model adapted to one user's five points, then asked for
// two predictions.
func Example() {
	dir, _ := os.MkdirTemp("", "models")
	defer os.RemoveAll(dir)
	b, _ := meta.Build(meta.Spec{Algorithm: "maml", Dataset: "sinusoid", Hidden: 16, Seed: 1})
	_ = b.Save(filepath.Join(dir, "sine"+serve.ModelExt), nil)

	s, _ := serve.New(serve.Config{ModelDir: dir})
	ts := httptest.NewServer(s.Handler()) // or s.ListenAndServe() on 127.0.0.1:8080
	defer ts.Close()
	defer s.Shutdown(context.Background())

	c := &serve.Client{BaseURL: ts.URL}
	ctx := context.Background()
	num := func(x float64) serve.Input { return serve.Input(fmt.Sprint(x)) }
	a, err := c.Adapt(ctx, serve.AdaptRequest{Model: "sine", Support: serve.Support{
		Inputs:  []serve.Input{num(-2), num(-1), num(0), num(1), num(2)},
		Targets: []float64{-0.9, -0.8, 0, 0.8, 0.9},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := c.Predict(ctx, serve.PredictRequest{ID: a.ID, Inputs: []serve.Input{num(0.5), num(1.5)}})
	fmt.Println(a.Kind, a.Steps, "steps,", len(p.Values), "values")
	_, err = c.Predict(ctx, serve.PredictRequest{ID: "unknown", Inputs: []serve.Input{num(0)}})
	fmt.Println(err)
	// Output:
	// gradient 10 steps, 2 values
	// HTTP 404: unknown or expired adapted-model id; adapt again
}
