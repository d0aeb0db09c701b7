package mt

import (
	"github.com/metalearn/metalearn/data"
)

// LoMTText collects the text of a lo-mt split for vocabulary training:
// for each language in langs its target side, and under "en" the English
// of every id once (the English is shared by the language files).
func LoMTText(dir, split string, langs []string) (map[string][]string, error) {
	out := map[string][]string{}
	seen := map[string]bool{}
	for _, l := range langs {
		segs, err := data.LoadLoMT(dir, split, l)
		if err != nil {
			return nil, err
		}
		for _, s := range segs {
			out[l] = append(out[l], s.Target)
			if !seen[s.ID] {
				seen[s.ID] = true
				out["en"] = append(out["en"], s.Source)
			}
		}
	}
	return out, nil
}
