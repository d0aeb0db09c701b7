package mt

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// ModelTranslator makes a Model a Translator (for FillPO): it translates
// with Options and keeps the best translation of each text.
type ModelTranslator struct {
	Model   *Model
	Options TranslateOptions
}

// Translate translates texts into to. from must be a language the model
// was trained on (it reads any of them; the target tag picks the output
// language). The context is checked before the batch.
func (t ModelTranslator) Translate(ctx context.Context, texts []string, from, to string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if langs := t.Model.Spec.Languages(); !slices.Contains(langs, from) {
		return nil, fmt.Errorf("mt: the model was not trained on source language %q (it knows %s)", from, strings.Join(langs, ", "))
	}
	res, err := t.Model.Translate(texts, to, t.Options)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(texts))
	for i, r := range res {
		if len(r) > 0 {
			out[i] = r[0].Text
		}
	}
	return out, nil
}
