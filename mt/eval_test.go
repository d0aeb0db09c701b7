package mt

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestReadReferences(t *testing.T) {
	dir := t.TempDir()
	w := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	tmx := w("m.tmx", `<tmx version="1.4"><body>
<tu tuid="1"><tuv xml:lang="en"><seg>Open</seg></tuv><tuv xml:lang="de"><seg>Öffnen</seg></tuv></tu>
<tu tuid="2"><tuv xml:lang="en"><seg>Close</seg></tuv><tuv xml:lang="fr"><seg>Fermer</seg></tuv></tu>
<tu tuid="3"><tuv xml:lang="en-GB"><seg>Save</seg></tuv><tuv xml:lang="de-DE"><seg>Speichern</seg></tuv></tu>
</body></tmx>`)
	po := w("a.po", "msgid \"Open\"\nmsgstr \"Öffnen\"\n\n#, fuzzy\nmsgid \"Save\"\nmsgstr \"Sichern\"\n\nmsgid \"Close\"\nmsgstr \"\"\n")
	tsv := w("t.tsv", "id1\tOpen\tÖffnen\n")
	cases := []struct {
		path string
		o    EvalOptions
		want []string
	}{
		{tmx, EvalOptions{TgtLang: "de"}, []string{"Öffnen", "Speichern"}},
		{tmx, EvalOptions{TgtLang: "en"}, []string{"Open", "Close", "Save"}},
		{tmx, EvalOptions{SrcLang: "en", TgtLang: "fr"}, []string{"Fermer"}},
		{tmx, EvalOptions{SrcLang: "en", TgtLang: "de", SourceSide: true}, []string{"Open", "Save"}},
		{po, EvalOptions{}, []string{"Öffnen"}},
		{po, EvalOptions{WithFuzzy: true}, []string{"Öffnen", "Sichern"}},
		{po, EvalOptions{WithFuzzy: true, SourceSide: true}, []string{"Open", "Save"}},
		{tsv, EvalOptions{}, []string{"Öffnen"}},
		{tsv, EvalOptions{SourceSide: true}, []string{"Open"}},
	}
	for i, c := range cases {
		got, err := ReadReferences(c.path, c.o)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("case %d: %q %v, want %q", i, got, err, c.want)
		}
	}
	if _, err := ReadReferences(tmx, EvalOptions{}); err == nil {
		t.Error("TMX without a language accepted")
	}
}
