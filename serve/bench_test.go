package serve

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/metalearn/metalearn/meta"
)

// BenchmarkAdaptPredict times one operation (adapt 5-way 1-shot, then
// predict 5 queries) through HTTP on full-size Conv4 models (64 filters):
//
//	go test -run XXX -bench AdaptPredict ./serve
func BenchmarkAdaptPredict(b *testing.B) {
	dir := b.TempDir()
	for name, s := range map[string]meta.Spec{
		"proto":  {Algorithm: "protonet", Dataset: "omniglot"},
		"fomaml": {Algorithm: "fomaml", Dataset: "omniglot", EvalSteps: 5},
		"anil":   {Algorithm: "anil", Dataset: "omniglot", EvalSteps: 5},
		// the MAML authors' Omniglot network (stride-2 convolutions)
		"fomaml-strided": {Algorithm: "fomaml", Dataset: "omniglot", EvalSteps: 5, Arch: "strided"},
	} {
		bt, err := meta.Build(s)
		if err != nil {
			b.Fatal(err)
		}
		if err := bt.Save(filepath.Join(dir, name+ModelExt), nil); err != nil {
			b.Fatal(err)
		}
	}
	_, ts := newTest(b, Config{ModelDir: dir})
	c := &Client{BaseURL: ts.URL}
	e := randomEpisode(1, 5, 1, 1)
	for _, name := range []string{"proto", "fomaml", "anil", "fomaml-strided"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				a, err := c.Adapt(ctx, AdaptRequest{Model: name, Support: Support{Inputs: e.sIn, Labels: e.sl}})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Predict(ctx, PredictRequest{ID: a.ID, Inputs: e.qIn}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
