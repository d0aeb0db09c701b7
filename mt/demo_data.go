package mt

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"slices"

	"github.com/metalearn/metalearn/data"
)

// demoFS holds the demo corpus (mt/demodata, see its README): short
// lo-mt pairs selected by `go run ./mt/internal/mkdemo`.
//
//go:embed demodata/SHA256SUMS demodata/README.md demodata/LICENSE demodata/train/*.tsv.gz demodata/dev/*.tsv.gz
var demoFS embed.FS

// DemoPretrain are the languages of the demo's multilingual part, and
// DemoNew the new language it adapts to.
var (
	DemoPretrain = []string{"de", "fr", "es", "it", "nl", "pt"}
	DemoNew      = "gl"
)

// DemoPairs returns the embedded demo pairs of split ("train": 1,000
// multi-way English strings in each of DemoPretrain, 300 for DemoNew;
// "dev": 200 held-out strings from lo-mt's dev split in all seven) and
// language, English source, in id order.
func DemoPairs(split, lang string) ([]data.Segment, error) {
	if split != "train" && split != "dev" {
		return nil, fmt.Errorf("demo data: unknown split %q (want train or dev)", split)
	}
	if lang != DemoNew && !slices.Contains(DemoPretrain, lang) {
		return nil, fmt.Errorf("demo data: unknown language %q (want one of %v or %s)", lang, DemoPretrain, DemoNew)
	}
	b, err := demoFile(split + "/en-" + lang + ".tsv")
	if err != nil {
		return nil, err
	}
	return data.ParseParallelTSV(bytes.NewReader(b), "demodata/"+split+"/en-"+lang+".tsv")
}

// DemoCorpus returns the demo pairs of split for the given languages
// (default: DemoPretrain) keyed by direction "en-xx", the shape of
// TrainConfig.TrainData and DevData.
func DemoCorpus(split string, langs ...string) (map[string][]data.Segment, error) {
	if len(langs) == 0 {
		langs = DemoPretrain
	}
	out := map[string][]data.Segment{}
	for _, l := range langs {
		segs, err := DemoPairs(split, l)
		if err != nil {
			return nil, err
		}
		out["en-"+l] = segs
	}
	return out, nil
}

// DemoAttribution is the attribution the demo corpus's license asks for.
func DemoAttribution() string {
	b, _ := demoFS.ReadFile("demodata/LICENSE")
	return string(b)
}

// demoFile returns the uncompressed text of an embedded demo file.
func demoFile(name string) ([]byte, error) {
	z, err := demoFS.ReadFile("demodata/" + name + ".gz")
	if err != nil {
		return nil, fmt.Errorf("demo data: %w", err)
	}
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("demo data %s: %w", name, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("demo data %s: %w", name, err)
	}
	return b, nil
}
