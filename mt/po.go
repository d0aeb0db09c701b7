package mt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/metalearn/metalearn/data"
)

// Translator translates a batch of texts from one language to another
// ("en", "de", "gl", ...). The output has one translation per input, in
// order. A translation model implements it; FillPO only needs this.
type Translator interface {
	Translate(ctx context.Context, texts []string, from, to string) ([]string, error)
}

// TranslatorFunc adapts a function to Translator.
type TranslatorFunc func(ctx context.Context, texts []string, from, to string) ([]string, error)

// Translate calls f.
func (f TranslatorFunc) Translate(ctx context.Context, texts []string, from, to string) ([]string, error) {
	return f(ctx, texts, from, to)
}

// FillOptions configures FillPO.
type FillOptions struct {
	// From is the catalogue's source language (default "en"); To the
	// target language (required).
	From, To string
	// Accelerators are the accelerator markers recognised (default
	// DefaultAccelerators; "none" for none).
	Accelerators string
	// Glossary, if set, forces its terms.
	Glossary *Glossary
	// BatchSize is the number of texts per Translate call (default 32).
	BatchSize int
	// Progress, if set, is called after each batch with the number of
	// texts translated so far and the total.
	Progress func(done, total int)
}

// FillReport counts what FillPO did.
type FillReport struct {
	// Entries is the number of active (non-header, non-obsolete)
	// entries; Translated those already translated and left alone.
	Entries, Translated int
	// Filled entries got machine output (all marked fuzzy); Copied ones
	// had nothing to translate ("%s: %s") and got their msgid; Repaired
	// ones needed a placeholder or accelerator repair (commented).
	Filled, Copied, Repaired int
	// Texts is the number of distinct texts sent to the translator.
	Texts int
}

// RepairComment starts the translator comment FillPO adds to an entry
// whose machine translation needed repairs.
const RepairComment = " metalearn mt: "

// FillPO fills the untranslated entries of catalogue f with machine
// translations into o.To and returns the filled copy; f is not changed.
//
//   - The header, obsolete entries and translated entries (every msgstr
//     non-empty, fuzzy or not) are kept as they are (byte-identical when
//     written).
//   - Each msgid is masked (Mask): placeholders, markup, entities and
//     control characters become sentinels, the accelerator marker is
//     removed, glossary terms become sentinels; after translation
//     Unmask restores them exactly and puts the accelerator before a
//     sensible letter. Repairs (a sentinel the model dropped or doubled)
//     mark the entry with a translator comment naming them.
//   - Plural entries: msgstr[0] gets the singular's translation and
//     msgstr[1..n-1] the plural's, n from the header's Plural-Forms (else
//     the entry's own count); with nplurals=1 the single form gets the
//     plural's translation. Forms already filled are kept.
//   - A message with no letters outside placeholders ("%s: %s") gets its
//     msgid as msgstr.
//   - Every filled entry is marked fuzzy, so a translator reviews it.
//
// Identical texts are translated once; texts go to tr in batches of
// o.BatchSize, with o.Progress called after each.
func FillPO(ctx context.Context, f *data.POFile, tr Translator, o FillOptions) (*data.POFile, FillReport, error) {
	var rep FillReport
	if o.To == "" {
		return nil, rep, errors.New("mt po: no target language")
	}
	if o.From == "" {
		o.From = "en"
	}
	if o.From == o.To {
		return nil, rep, fmt.Errorf("mt po: source and target language are both %q", o.To)
	}
	switch o.Accelerators {
	case "":
		o.Accelerators = DefaultAccelerators
	case "none":
		o.Accelerators = ""
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 32
	}
	if lang, ok := f.HeaderField("Language"); ok && lang != "" && !sameLanguage(lang, o.To) {
		return nil, rep, fmt.Errorf("mt po: the catalogue's Language is %q, not %q (fill a template or a %s catalogue)", lang, o.To, o.To)
	}
	nplurals, _, hasPlurals, err := f.PluralForms()
	if err != nil {
		return nil, rep, fmt.Errorf("mt po: %w", err)
	}
	mopt := MaskOptions{Accelerators: o.Accelerators, Glossary: o.Glossary}

	// Plan: which form of which entry gets which text.
	type job struct {
		entry, form int
		src         string // msgid or msgid_plural
	}
	var jobs []job
	for i := range f.Entries {
		e := &f.Entries[i]
		if e.IsHeader() || e.Obsolete {
			continue
		}
		rep.Entries++
		if e.Translated() {
			rep.Translated++
			continue
		}
		if !e.HasPlural {
			jobs = append(jobs, job{i, 0, e.ID})
			continue
		}
		n := len(e.Str)
		if hasPlurals {
			n = nplurals
		}
		for k := 0; k < n; k++ {
			if k < len(e.Str) && e.Str[k] != "" {
				continue
			}
			src := e.IDPlural
			if k == 0 && n > 1 {
				src = e.ID
			}
			jobs = append(jobs, job{i, k, src})
		}
	}

	// Mask every distinct source text; collect the texts to translate.
	masked := map[string]*Masked{}
	index := map[string]int{}
	var texts []string
	for _, j := range jobs {
		if _, ok := masked[j.src]; ok {
			continue
		}
		m := Mask(j.src, mopt)
		masked[j.src] = &m
		if m.HasText() {
			if _, ok := index[m.Text]; !ok {
				index[m.Text] = len(texts)
				texts = append(texts, m.Text)
			}
		}
	}
	rep.Texts = len(texts)
	out := make([]string, 0, len(texts))
	for lo := 0; lo < len(texts); lo += o.BatchSize {
		if err := ctx.Err(); err != nil {
			return nil, rep, err
		}
		batch := texts[lo:min(lo+o.BatchSize, len(texts))]
		got, err := tr.Translate(ctx, batch, o.From, o.To)
		if err != nil {
			return nil, rep, fmt.Errorf("mt po: translating: %w", err)
		}
		if len(got) != len(batch) {
			return nil, rep, fmt.Errorf("mt po: the translator returned %d translations for %d texts", len(got), len(batch))
		}
		out = append(out, got...)
		if o.Progress != nil {
			o.Progress(len(out), len(texts))
		}
	}

	// Write the results into a copy.
	g := &data.POFile{Entries: slices.Clone(f.Entries), Trailing: f.Trailing}
	touched := map[int][]string{} // entry -> repair notes
	copied := map[int]bool{}
	for _, j := range jobs {
		e := &g.Entries[j.entry]
		if _, ok := touched[j.entry]; !ok {
			touched[j.entry] = nil
			str := make([]string, max(len(e.Str), j.form+1))
			copy(str, e.Str)
			e.Str = str
			e.Flags = slices.Clone(e.Flags)
			e.Comments = slices.Clone(e.Comments)
		}
		for len(e.Str) <= j.form {
			e.Str = append(e.Str, "")
		}
		m := masked[j.src]
		if !m.HasText() {
			e.Str[j.form] = j.src
			copied[j.entry] = true
			continue
		}
		t := out[index[m.Text]]
		if !utf8.ValidString(t) {
			// Byte-fallback tokens can decode to invalid UTF-8; a
			// catalogue must be UTF-8.
			t = strings.ToValidUTF8(t, "\uFFFD")
			touched[j.entry] = append(touched[j.entry], "the model's output was not valid UTF-8 (bad bytes replaced by U+FFFD)")
		}
		r := m.Unmask(t)
		e.Str[j.form] = r.Text
		for _, p := range r.Problems {
			touched[j.entry] = append(touched[j.entry], p)
		}
	}
	for i, probs := range touched {
		e := &g.Entries[i]
		e.SetFuzzy(true)
		if copied[i] && len(probs) == 0 {
			rep.Copied++
		} else {
			rep.Filled++
		}
		if len(probs) > 0 {
			rep.Repaired++
			e.Comments = append(e.Comments, RepairComment+"machine translation repaired: "+strings.Join(dedupe(probs), "; "))
		}
	}
	return g, rep, nil
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// sameLanguage compares gettext language codes ("pt_BR", "gl", "de-DE")
// on their language part, case-insensitively.
func sameLanguage(a, b string) bool {
	base := func(s string) string {
		s = strings.ToLower(s)
		if i := strings.IndexAny(s, "_-@."); i >= 0 {
			s = s[:i]
		}
		return s
	}
	return base(a) == base(b)
}

// FillPOFile reads the catalogue at path, fills it (FillPO) and returns
// the filled catalogue in gettext's layout.
func FillPOFile(ctx context.Context, path string, tr Translator, o FillOptions) ([]byte, FillReport, error) {
	f, err := data.ReadPO(path)
	if err != nil {
		return nil, FillReport{}, err
	}
	g, rep, err := FillPO(ctx, f, tr, o)
	if err != nil {
		return nil, rep, fmt.Errorf("%s: %w", path, err)
	}
	var b bytes.Buffer
	if err := data.WritePO(&b, g); err != nil {
		return nil, rep, err
	}
	return b.Bytes(), rep, nil
}
