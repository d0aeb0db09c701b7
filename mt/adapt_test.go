package mt

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/tensor"
)

// pairLoss is the model's mean token cross-entropy (no smoothing, no
// dropout) on pairs into one target language.
func pairLoss(t *testing.T, m *Model, pairs []AdaptPair) float64 {
	t.Helper()
	src := make([][]int, len(pairs))
	tgt := make([][]int, len(pairs))
	rows := make([]int, len(pairs))
	for i, p := range pairs {
		var err error
		if src[i], err = m.EncodeSource(p.Src, p.To, 64); err != nil {
			t.Fatal(err)
		}
		tgt[i], rows[i] = m.EncodeTarget(p.Tgt, 64), i
	}
	m.SetTraining(false)
	l, _, err := m.Loss(pairs[0].To, padRows(src, rows), padRows(tgt, rows), 0)
	if err != nil {
		t.Fatal(err)
	}
	return l.Item()
}

// Adapt fine-tunes a copy: the loss on the user's pairs falls, the base
// model's weights are untouched, a cancelled context stops it and bad
// pairs are refused.
func TestModelAdapt(t *testing.T) {
	c := tinyConfig(t, ArchShared)
	c.Steps, c.ValEvery = 12, 0
	res, err := Train(c)
	if err != nil {
		t.Fatal(err)
	}
	base := mustLoad(t, res.Model)
	before := make([]*tensor.Tensor, 0)
	for _, p := range base.Params() {
		before = append(before, p.V.Value.Clone())
	}
	// a user's own terminology: "file" is always "deDossier"
	pairs := []AdaptPair{
		{Src: "open the file", Tgt: "deOpen deThe deDossier", From: "en", To: "de"},
		{Src: "save the file", Tgt: "deSave deThe deDossier", From: "en", To: "de"},
		{Src: "close file", Tgt: "deClose deDossier", From: "en", To: "de"},
	}
	l0 := pairLoss(t, base, pairs)
	a, err := base.Adapt(context.Background(), pairs, AdaptConfig{Steps: 8, LR: 3e-3})
	if err != nil {
		t.Fatal(err)
	}
	if l1 := pairLoss(t, a, pairs); !(l1 < l0) {
		t.Errorf("loss on the adaptation pairs: %v before, %v after 8 steps; want it lower", l0, l1)
	}
	for i, p := range base.Params() {
		if !tensor.AllClose(before[i], p.V.Value, 0, 0) {
			t.Fatalf("Adapt changed the base model's %s", p.Name)
		}
	}
	if a.Bytes() != base.Bytes() || a.Bytes() <= 0 {
		t.Errorf("Bytes: adapted %d, base %d", a.Bytes(), base.Bytes())
	}
	if _, err := a.Translate([]string{"open the file"}, "de", TranslateOptions{}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := base.Adapt(ctx, pairs, AdaptConfig{Steps: 3}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v, want context.Canceled", err)
	}
	for _, tc := range []struct {
		name  string
		pairs []AdaptPair
		want  string
	}{
		{"none", nil, "no adaptation pairs"},
		{"bad source", []AdaptPair{{Src: "a", Tgt: "b", From: "xx", To: "de"}}, `unknown source language "xx"`},
		{"bad target", []AdaptPair{{Src: "a", Tgt: "b", From: "en", To: "yy"}}, `unknown target language "yy"`},
	} {
		if _, err := base.Adapt(context.Background(), tc.pairs, AdaptConfig{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}
