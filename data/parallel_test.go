package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMoses(t *testing.T) {
	cases := []struct {
		name, src, tgt string
		n              int
		err            string
	}{
		{"ok", "Open\nClose\n", "Öffnen\nSchließen\n", 2, ""},
		{"no final newline", "Open\nClose", "Öffnen\r\nSchließen", 2, ""},
		{"empty lines kept", "a\n\nb\n", "x\n\ny\n", 3, ""},
		{"empty", "", "", 0, ""},
		{"count", "a\nb\n", "x\n", 0, "t.de: 1 lines, but s.en has 2"},
		{"utf8", "a\n\xff\n", "x\ny\n", 0, "s.en:2: invalid UTF-8 at byte 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			segs, err := ParseMoses(strings.NewReader(c.src), strings.NewReader(c.tgt), "s.en", "t.de")
			if c.err != "" {
				var pe *ParseError
				if err == nil || !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || len(segs) != c.n {
				t.Fatalf("%d segments, %v", len(segs), err)
			}
			if c.n == 2 && (segs[1].Source != "Close" || segs[1].Target != "Schließen" || segs[1].Line != 2) {
				t.Fatalf("%+v", segs[1])
			}
		})
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.en"), []byte("a\nb\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.de"), []byte("x\ny\n"), 0o644)
	if segs, err := ReadMoses(filepath.Join(dir, "c"), "en", "de"); err != nil || len(segs) != 2 {
		t.Fatalf("ReadMoses: %v %v", segs, err)
	}
}

func TestParseParallelTSV(t *testing.T) {
	cases := []struct {
		name, in string
		n        int
		err      string
	}{
		{"three", "id1\tOpen\tÖffnen\nid2\tClose\tSchließen\n", 2, ""},
		{"two", "Open\tÖffnen\n", 1, ""},
		{"empty target", "Open\t\n", 1, ""},
		{"one column", "Open\n", 0, "x.tsv:1: 1 tab-separated columns, want 2"},
		{"ragged", "a\tb\tc\nd\te\n", 0, "x.tsv:2: 2 tab-separated columns, want 3 like line 1"},
		{"empty id", "\ta\tb\n", 0, "x.tsv:1: empty id"},
		{"four", "a\tb\tc\td\n", 0, "x.tsv:1: 4 tab-separated columns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			segs, err := ParseParallelTSV(strings.NewReader(c.in), "x.tsv")
			if c.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || len(segs) != c.n {
				t.Fatalf("%v %v", segs, err)
			}
		})
	}
	segs, _ := ParseParallelTSV(strings.NewReader("id1\tOpen\tÖffnen\n"), "x.tsv")
	if segs[0] != (Segment{ID: "id1", Source: "Open", Target: "Öffnen", Line: 1}) {
		t.Fatalf("%+v", segs[0])
	}
}

const sampleTMX = `<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header creationtool="test" srclang="en" datatype="plaintext" segtype="sentence" adminlang="en" o-tmf="none"/>
  <body>
    <tu tuid="1">
      <note>a note</note>
      <tuv xml:lang="en-US"><seg>Press <bpt i="1">&lt;b&gt;</bpt>OK<ept i="1">&lt;/b&gt;</ept> to <hi>continue</hi>.</seg></tuv>
      <tuv xml:lang="de-DE"><seg>Drücken Sie <bpt i="1">&lt;b&gt;</bpt>OK<ept i="1">&lt;/b&gt;</ept>, um <hi>fortzufahren</hi>.</seg></tuv>
    </tu>
    <tu tuid="2">
      <tuv xml:lang="en"><seg>Value &amp; <ph x="1">{0}</ph> unit</seg></tuv>
      <tuv lang="fr"><seg>Valeur &amp; <ph x="1">{0}</ph> unité</seg></tuv>
    </tu>
    <tu tuid="3">
      <tuv xml:lang="en"><seg>Only English</seg></tuv>
    </tu>
  </body>
</tmx>
`

func TestParseTMX(t *testing.T) {
	units, err := ParseTMX(strings.NewReader(sampleTMX), "s.tmx", TMXOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 3 || units[0].ID != "1" || units[0].Line != 5 {
		t.Fatalf("%+v", units)
	}
	if got := units[0].Text["en-US"]; got != "Press OK to continue." {
		t.Fatalf("stripped: %q", got)
	}
	de := TMXPairs(units, "en", "de")
	if len(de) != 1 || de[0].Target != "Drücken Sie OK, um fortzufahren." || de[0].ID != "1" {
		t.Fatalf("en-de pairs %+v", de)
	}
	fr := TMXPairs(units, "EN", "fr")
	if len(fr) != 1 || fr[0].Source != "Value &  unit" || fr[0].Target != "Valeur &  unité" {
		t.Fatalf("en-fr pairs %+v", fr)
	}
	kept, _ := ParseTMX(strings.NewReader(sampleTMX), "s.tmx", TMXOptions{KeepCodes: true})
	if got := kept[0].Text["en-US"]; got != "Press <b>OK</b> to continue." {
		t.Fatalf("kept codes: %q", got)
	}
	if got := kept[1].Text["en"]; got != "Value & {0} unit" {
		t.Fatalf("kept ph: %q", got)
	}
	bad := []struct{ name, in, want string }{
		{"root", `<foo/>`, "b.tmx:1: root element <foo>"},
		{"syntax", "<tmx>\n<body><tu>\n</body></tmx>", "b.tmx:3: XML:"},
		{"no lang", "<tmx><body><tu>\n<tuv><seg>x</seg></tuv></tu></body></tmx>", "b.tmx:2: <tuv> without xml:lang"},
		{"seg outside", "<tmx><body><seg>x</seg></body></tmx>", "b.tmx:1: <seg> outside <tuv>"},
		{"two segs", `<tmx><body><tu><tuv xml:lang="en"><seg>a</seg><seg>b</seg></tuv></tu></body></tmx>`, "b.tmx:1: <tuv> with more than one <seg>"},
		{"no seg", `<tmx><body><tu><tuv xml:lang="en"></tuv></tu></body></tmx>`, "b.tmx:1: <tuv xml:lang=\"en\"> without <seg>"},
		{"entity", `<tmx><body><tu><tuv xml:lang="en"><seg>&foo;</seg></tuv></tu></body></tmx>`, "b.tmx:1: XML:"},
		{"empty", ``, "b.tmx: no <tmx> element"},
		{"nested tu", `<tmx><body><tu><tu/></tu></body></tmx>`, "b.tmx:1: <tu> inside <tu>"},
	}
	for _, c := range bad {
		_, err := ParseTMX(strings.NewReader(c.in), "b.tmx", TMXOptions{})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestLoMTSynthetic(t *testing.T) {
	dir := t.TempDir()
	for _, s := range LoMTSplits {
		os.MkdirAll(filepath.Join(dir, s), 0o755)
	}
	write := func(split, lang, body string) {
		os.WriteFile(LoMTPath(dir, split, lang), []byte(body), 0o644)
	}
	write("test", "de", "a1\tOpen file\tDatei öffnen\nb2\tClose\tSchließen\n")
	write("test", "fr", "a1\tOpen file\tOuvrir le fichier\nc3\tSave\tEnregistrer\n")
	p, err := LoadLoMTPair(dir, "test", "de", "fr")
	if err != nil || len(p) != 1 || p[0] != (Segment{ID: "a1", Source: "Datei öffnen", Target: "Ouvrir le fichier"}) {
		t.Fatalf("de-fr: %+v %v", p, err)
	}
	p, _ = LoadLoMTPair(dir, "test", "fr", "en")
	if len(p) != 2 || p[1].Source != "Enregistrer" || p[1].Target != "Save" {
		t.Fatalf("fr-en: %+v", p)
	}
	m, _ := LoadLoMTMultiWay(dir, "test", false, "de", "fr")
	if len(m) != 3 || m[2].ID != "c3" || len(m[0].Text) != 2 {
		t.Fatalf("multi-way: %+v", m)
	}
	write("dev", "de", "b\tx\ty\na\tx\ty\n")
	if _, err := LoadLoMT(dir, "dev", "de"); err == nil || !strings.Contains(err.Error(), "dev/en-de.tsv:2: id a not after b") {
		t.Fatalf("unsorted: %v", err)
	}
	write("dev", "fr", "a1\tOther English\tz\n")
	write("dev", "de", "a1\tOpen file\ty\n")
	if _, err := LoadLoMTMultiWay(dir, "dev", true, "de", "fr"); err == nil || !strings.Contains(err.Error(), "has English") {
		t.Fatalf("English mismatch: %v", err)
	}
	if _, err := LoadLoMT(dir, "valid", "de"); err == nil {
		t.Fatal("unknown split accepted")
	}
	if _, err := LoadLoMT(dir, "train", "de"); err == nil || !strings.Contains(err.Error(), "shared/data/lo-mt") {
		t.Fatalf("missing file: %v", err)
	}
}

// The real corpus: counts from its README, and the multi-way overlaps.
func TestLoMTReal(t *testing.T) {
	dir := filepath.Dir(sharedDataPath(t, "lo-mt/SHA256SUMS"))
	want := map[string][3]int{"de": {31257, 500, 1000}, "fr": {30153, 500, 1000}, "af": {8777, 214, 436}, "gl": {19590, 500, 1000}}
	for lang, n := range want {
		for i, split := range LoMTSplits {
			segs, err := LoadLoMT(dir, split, lang)
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) != n[i] {
				t.Errorf("%s %s: %d pairs, README says %d", split, lang, len(segs), n[i])
			}
		}
	}
	m, err := LoadLoMTMultiWay(dir, "test", true, "de", "fr", "es", "it", "nl", "pt", "gl", "eu")
	if err != nil || len(m) != 1000 {
		t.Fatalf("test all 8: %d %v", len(m), err)
	}
	p, err := LoadLoMTPair(dir, "train", "de", "fr")
	if err != nil || len(p) != 29968 {
		t.Fatalf("train de-fr: %d (README: 29968) %v", len(p), err)
	}
	m, _ = LoadLoMTMultiWay(dir, "train", false, LoMTLanguages()...)
	if len(m) != 31548 {
		t.Fatalf("train distinct ids %d, README says 31548", len(m))
	}
}

func FuzzParallelTSV(f *testing.F) {
	f.Add([]byte("id1\tOpen\tÖffnen\nid2\tClose\tSchließen\n"))
	f.Add([]byte("a\tb\n"))
	f.Add([]byte("a\tb\tc\nd\te\n"))
	f.Add([]byte("\xff\t\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		segs, err := ParseParallelTSV(strings.NewReader(string(b)), "f.tsv")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error without file/line: %v", err)
			}
			return
		}
		for _, s := range segs {
			if strings.ContainsAny(s.Source+s.Target+s.ID, "\t\n") {
				t.Fatalf("tab or newline in a field: %+v", s)
			}
		}
	})
}

func FuzzMoses(f *testing.F) {
	f.Add([]byte("a\nb\n"), []byte("x\ny\n"))
	f.Add([]byte("a\r\nb"), []byte("x\n"))
	f.Add([]byte("\xff"), []byte(""))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		segs, err := ParseMoses(strings.NewReader(string(a)), strings.NewReader(string(b)), "a", "b")
		if err != nil {
			return
		}
		for i, s := range segs {
			if s.Line != i+1 || strings.Contains(s.Source+s.Target, "\n") {
				t.Fatalf("segment %d: %+v", i, s)
			}
		}
	})
}

func FuzzTMX(f *testing.F) {
	f.Add([]byte(sampleTMX))
	f.Add([]byte(`<tmx><body><tu><tuv xml:lang="en"><seg>a<bpt i="1">x<sub>y</sub></bpt></seg></tuv></tu></body></tmx>`))
	f.Add([]byte(`<tmx><body><tu><tuv><seg>x</seg></tuv></tu></body></tmx>`))
	f.Add([]byte(`<tmx>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, keep := range []bool{false, true} {
			units, err := ParseTMX(strings.NewReader(string(b)), "f.tmx", TMXOptions{KeepCodes: keep})
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error without file/line: %v", err)
				}
				return
			}
			_ = TMXPairs(units, "en", "de")
		}
	})
}
