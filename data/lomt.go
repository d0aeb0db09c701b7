package data

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// The lo-mt corpus (../shared/data/lo-mt, see its README): LibreOffice
// 7.4 UI and help strings, English paired with nine languages, files
// split/en-XX.tsv with id<TAB>en<TAB>XX, sorted by id, multi-way parallel
// by id.
var (
	// LoMTPretrain are the languages for multilingual training.
	LoMTPretrain = []string{"de", "fr", "es", "it", "nl", "pt"}
	// LoMTNew are the new-language transfer targets (af: UI only).
	LoMTNew = []string{"gl", "eu", "af"}
	// LoMTSplits are the fixed splits.
	LoMTSplits = []string{"train", "dev", "test"}
)

// LoMTLanguages are all non-English languages of lo-mt.
func LoMTLanguages() []string { return append(slices.Clone(LoMTPretrain), LoMTNew...) }

// LoMTPath is the file of split and language (e.g. "train", "de").
func LoMTPath(dir, split, lang string) string {
	return filepath.Join(dir, split, "en-"+lang+".tsv")
}

func checkLoMT(split, lang string) error {
	if !slices.Contains(LoMTSplits, split) {
		return fmt.Errorf("lo-mt: unknown split %q (want train, dev or test)", split)
	}
	if !slices.Contains(LoMTLanguages(), lang) {
		return fmt.Errorf("lo-mt: unknown language %q (want one of %v)", lang, LoMTLanguages())
	}
	return nil
}

// LoadLoMT reads one lo-mt file: English source, lang target, with ids.
// The file must have three columns and unique, sorted ids.
func LoadLoMT(dir, split, lang string) ([]Segment, error) {
	if err := checkLoMT(split, lang); err != nil {
		return nil, err
	}
	p := LoMTPath(dir, split, lang)
	segs, err := ReadParallelTSV(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("lo-mt: %w (the corpus lives in ../shared/data/lo-mt; see metalearn data list)", err)
		}
		return nil, err
	}
	for i, s := range segs {
		if s.ID == "" {
			return nil, parseErr(p, s.Line, "no id column (lo-mt files have id<TAB>en<TAB>%s)", lang)
		}
		if i > 0 && s.ID <= segs[i-1].ID {
			return nil, parseErr(p, s.Line, "id %s not after %s: lo-mt files are sorted by unique id", s.ID, segs[i-1].ID)
		}
	}
	return segs, nil
}

// MultiSegment is one English string with its translations, joined on
// the lo-mt id.
type MultiSegment struct {
	ID, English string
	Text        map[string]string // language -> translation
}

// LoadLoMTMultiWay joins the files of langs in split on id. With all
// true it keeps the ids present in every language; otherwise every id of
// any language (Text then lacks the languages without it). Ids come out
// sorted. Two files that give one id different English are an error.
func LoadLoMTMultiWay(dir, split string, all bool, langs ...string) ([]MultiSegment, error) {
	byID := map[string]*MultiSegment{}
	for _, l := range langs {
		segs, err := LoadLoMT(dir, split, l)
		if err != nil {
			return nil, err
		}
		for _, s := range segs {
			m := byID[s.ID]
			if m == nil {
				m = &MultiSegment{ID: s.ID, English: s.Source, Text: map[string]string{}}
				byID[s.ID] = m
			} else if m.English != s.Source {
				return nil, parseErr(LoMTPath(dir, split, l), s.Line, "id %s has English %q here but %q in another language's file", s.ID, s.Source, m.English)
			}
			m.Text[l] = s.Target
		}
	}
	out := make([]MultiSegment, 0, len(byID))
	for _, m := range byID {
		if all && len(m.Text) != len(langs) {
			continue
		}
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b MultiSegment) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// LoadLoMTPair gives the segments of split translating src into tgt,
// either of which may be "en": en->X and X->en read en-X directly, X->Y
// (e.g. de->fr, the zero-shot references) joins en-X and en-Y on id.
func LoadLoMTPair(dir, split, src, tgt string) ([]Segment, error) {
	if src == tgt {
		return nil, fmt.Errorf("lo-mt: source and target are both %q", src)
	}
	switch {
	case src == "en":
		return LoadLoMT(dir, split, tgt)
	case tgt == "en":
		segs, err := LoadLoMT(dir, split, src)
		for i := range segs {
			segs[i].Source, segs[i].Target = segs[i].Target, segs[i].Source
		}
		return segs, err
	}
	m, err := LoadLoMTMultiWay(dir, split, true, src, tgt)
	if err != nil {
		return nil, err
	}
	out := make([]Segment, len(m))
	for i, x := range m {
		out[i] = Segment{ID: x.ID, Source: x.Text[src], Target: x.Text[tgt]}
	}
	return out, nil
}
