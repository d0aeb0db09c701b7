package mt

import (
	"context"
	"strings"
	"testing"
)

// A (tiny, barely trained) Model fills a catalogue through
// ModelTranslator: whatever it outputs, the placeholders, markup and
// accelerators of every msgid come back exactly and every filled entry is
// fuzzy; the text is the model's best translation of the masked msgid.
func TestModelTranslatorFillPO(t *testing.T) {
	c := tinyConfig(t, ArchShared)
	c.ValEvery, c.CheckpointEvery = 0, 0
	res, err := Train(c)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := LoadModel(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	tr := ModelTranslator{Model: m}
	f, _ := readPOFile(t, "testdata/app.pot")
	// The catalogue says Language: gl; fill it as a template for de.
	for i := range f.Entries {
		if f.Entries[i].IsHeader() {
			f.Entries[i].Str = []string{strings.Replace(f.Entries[i].Str[0], "Language: gl", "Language: ", 1)}
		}
	}
	g, rep, err := FillPO(context.Background(), f, tr, FillOptions{To: "de"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Filled != 16 {
		t.Errorf("%+v", rep)
	}
	checkPlaceholders(t, f, g, DefaultAccelerators)
	msgfmtCheck(t, f, g, DefaultAccelerators)
	want, err := m.Translate([]string{"The spreadsheet could not be saved."}, "de", TranslateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range g.Entries {
		if e.ID == "The spreadsheet could not be saved." && (e.Str[0] != want[0][0].Text || !e.Fuzzy()) {
			t.Errorf("msgstr %q, the model says %q", e.Str[0], want[0][0].Text)
		}
	}
	// Bad languages are the model's errors, named.
	if _, err := tr.Translate(context.Background(), []string{"x"}, "xx", "de"); err == nil || !strings.Contains(err.Error(), `not trained on source language "xx"`) {
		t.Errorf("source: %v", err)
	}
	if _, err := tr.Translate(context.Background(), []string{"x"}, "en", "eu"); err == nil || !strings.Contains(err.Error(), `unknown target language "eu"`) {
		t.Errorf("target: %v", err)
	}
}
