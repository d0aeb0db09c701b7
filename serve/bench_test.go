package serve

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/mt"
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

// BenchmarkTranslateBatching asks whether batching concurrent translate
// requests would pay: 8 one-sentence requests decoded one by one
// ("separate") against the same 8 sentences decoded as one batch
// ("batched"), on a randomly initialised model of mt's default size
// (d_model 128, 2+2 layers; random weights decode to the length limit, so
// both sides decode the same number of steps):
//
//	go test -run XXX -bench TranslateBatching ./serve
func BenchmarkTranslateBatching(b *testing.B) {
	corpus := map[string][]string{"en": loadSentences, "de": loadSentences}
	v, err := mt.TrainBPE(corpus, mt.BPEConfig{VocabSize: 600})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.AddLanguageTags("de", "en"); err != nil {
		b.Fatal(err)
	}
	c := mt.DefaultTrainConfig()
	m, err := mt.NewModel(mt.ModelSpec{Version: mt.ModelVersion, Arch: mt.ArchShared, DModel: c.DModel, Heads: c.Heads, EncoderLayers: c.EncoderLayers,
		DecoderLayers: c.DecoderLayers, FFN: c.FFN, NormFirst: c.NormFirst, Pairs: []string{"en-de"}, Seed: 1}, v)
	if err != nil {
		b.Fatal(err)
	}
	m.SetTraining(false)
	texts := loadSentences[:8]
	for _, beam := range []int{1, 4} {
		o := mt.TranslateOptions{Beam: beam, MaxLen: 64}
		b.Run(fmt.Sprintf("beam%d/separate", beam), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, s := range texts {
					if _, err := m.Translate([]string{s}, "de", o); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "sentences/s")
		})
		b.Run(fmt.Sprintf("beam%d/batched", beam), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := m.Translate(texts, "de", o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "sentences/s")
		})
	}
}
