package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestPORealistic(t *testing.T) {
	raw, err := os.ReadFile("testdata/app.de.po")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParsePO(raw, "app.de.po")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != 12 {
		t.Fatalf("%d entries, want 12", len(f.Entries))
	}
	n, expr, ok, err := f.PluralForms()
	if !ok || err != nil || n != 2 || expr != "(n != 1)" {
		t.Fatalf("plural forms %d %q %v %v", n, expr, ok, err)
	}
	if lang, _ := f.HeaderField("language"); lang != "de" {
		t.Fatalf("Language %q", lang)
	}
	e := f.Entries[1]
	if e.ID != "_Open…" || e.Str[0] != "Ö_ffnen …" || e.Extracted[0] != "Menu entry in the File menu." || e.References[0] != "src/menu.c:42 src/toolbar.c:17" || e.Line != 21 {
		t.Fatalf("entry 1: %+v", e)
	}
	if c := f.Entries[2]; !c.HasContext || c.Context != "menu" || f.Entries[3].Context != "button" {
		t.Fatalf("contexts: %+v %+v", c, f.Entries[3])
	}
	if c := f.Entries[4]; c.ID != `Could not open "%s": %s` || !c.HasFlag("c-format") || c.Comments[0] != " Translators: %s is a file name." {
		t.Fatalf("escapes/flags: %+v", c)
	}
	if p := f.Entries[5]; !p.HasPlural || p.IDPlural != "%d files were deleted." || len(p.Str) != 2 || p.Str[1] != "%d Dateien wurden gelöscht." {
		t.Fatalf("plural: %+v", p)
	}
	if m := f.Entries[6]; m.ID != "Usage: writer [OPTION…] FILE\n\tOpen FILE for editing.\n" {
		t.Fatalf("multi-line: %q", m.ID)
	}
	if z := f.Entries[7]; !z.Fuzzy() || z.Previous[0] != `msgid "Print the document"` {
		t.Fatalf("fuzzy: %+v", z)
	}
	if b := f.Entries[8]; b.ID != `Path separator is \ on Windows` {
		t.Fatalf("backslash: %q", b.ID)
	}
	if b := f.Entries[9]; b.ID != "Insert a tab (\\t) or a bell (\a)" || b.Translated() {
		t.Fatalf("escapes: %q", b.ID)
	}
	if o := f.Entries[11]; !f.Entries[10].Obsolete || !o.Obsolete || o.Context != "old" || o.Str[0] != "Schließen" {
		t.Fatalf("obsolete: %+v", o)
	}
	segs := f.Segments(false)
	if len(segs) != 7 || segs[0].Source != "_Open…" || segs[1].Context != "menu" {
		t.Fatalf("segments (no fuzzy): %d %+v", len(segs), segs)
	}
	if len(f.Segments(true)) != 8 {
		t.Fatal("fuzzy segment not included")
	}
	// Write gives back the file byte for byte (it is in gettext's layout).
	var buf bytes.Buffer
	if err := WritePO(&buf, f); err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(raw) {
		t.Fatalf("round trip differs:\n%s", diffLines(string(raw), buf.String()))
	}
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: %q | %q", i+1, al[i], bl[i])
		}
	}
	return "lengths differ"
}

func TestPOEquivalentRoundTrip(t *testing.T) {
	// Not in gettext's layout: no blank lines, escapes and long strings
	// split differently, CRLF. Reading the written file gives the same
	// entries.
	in := "msgid \"\"\r\nmsgstr \"Content-Type: text/plain; charset=utf-8\\n\"\r\n" +
		"#,fuzzy,c-format\nmsgid \"a\" \"b\\x41\\101\"\nmsgstr \"x\"\n" +
		"msgctxt \"\"\nmsgid \"a\"\nmsgstr \"\\\"q\\\"\"\n" +
		"# trailing comment\n"
	f, err := ParsePO([]byte(in), "x.po")
	if err != nil {
		t.Fatal(err)
	}
	if f.Entries[1].ID != "abAA" || !f.Entries[1].Fuzzy() || !f.Entries[2].HasContext || f.Entries[2].Context != "" {
		t.Fatalf("%+v", f.Entries)
	}
	var buf bytes.Buffer
	WritePO(&buf, f)
	g, err := ParsePO(buf.Bytes(), "y.po")
	if err != nil {
		t.Fatal(err)
	}
	if !equivalentPO(f, g) {
		t.Fatalf("not equivalent:\n%s", buf.String())
	}
}

func equivalentPO(a, b *POFile) bool {
	if len(a.Entries) != len(b.Entries) || !reflect.DeepEqual(a.Trailing, b.Trailing) {
		return false
	}
	for i := range a.Entries {
		x, y := a.Entries[i], b.Entries[i]
		x.Line, y.Line = 0, 0
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

func TestPOErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"msgstr first", "msgstr \"x\"\n", "x.po:1: msgstr without msgid"},
		{"no msgstr", "msgid \"a\"\n\nmsgid \"b\"\nmsgstr \"\"\n", "x.po:1: msgid without msgstr"},
		{"unterminated", "msgid \"a\nmsgstr \"\"\n", "x.po:1: unterminated string"},
		{"bad escape", "msgid \"\\q\"\nmsgstr \"\"\n", "x.po:1: unknown escape \\q"},
		{"garbage", "msgid \"a\" x\nmsgstr \"\"\n", "x.po:1: text after the closing quote"},
		{"continuation", "\"a\"\n", "x.po:1: string continuation without a keyword"},
		{"plural without", "msgid \"a\"\nmsgstr[0] \"\"\n", "x.po:2: msgstr[0] without msgid_plural"},
		{"plural gap", "msgid \"a\"\nmsgid_plural \"b\"\nmsgstr[0] \"\"\nmsgstr[2] \"\"\n", "x.po:4: msgstr[2] out of order"},
		{"plural msgstr", "msgid \"a\"\nmsgid_plural \"b\"\nmsgstr \"\"\n", "x.po:3: msgstr after msgid_plural"},
		{"duplicate", "msgid \"a\"\nmsgstr \"\"\n\nmsgid \"a\"\nmsgstr \"\"\n", "x.po:4: duplicate message definition (first at line 1)"},
		{"keyword", "msgfoo \"a\"\n", "x.po:1: unknown keyword"},
		{"utf8", "msgid \"\xff\"\nmsgstr \"\"\n", "x.po:1: invalid UTF-8"},
		{"escaped utf8", "msgid \"\\377\"\nmsgstr \"\"\n", "x.po:1: string decodes to invalid UTF-8"},
		{"charset", "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=ISO-8859-1\\n\"\n", "x.po:1: charset \"iso-8859-1\""},
		{"nplurals", "msgid \"\"\nmsgstr \"Plural-Forms: nplurals=3; plural=n%10;\\n\"\n\nmsgid \"a\"\nmsgid_plural \"b\"\nmsgstr[0] \"\"\nmsgstr[1] \"\"\n", "x.po:4: 2 plural forms, the header's Plural-Forms says nplurals=3"},
		{"bad plural forms", "msgid \"\"\nmsgstr \"Plural-Forms: two\\n\"\n", "x.po:1: Plural-Forms \"two\""},
		{"mixed obsolete", "msgid \"a\"\n#~ msgstr \"b\"\n", "x.po:2: obsolete (#~) and active lines mixed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePO([]byte(c.in), "x.po")
			var pe *ParseError
			if err == nil || !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %v, want prefix %q", err, c.want)
			}
		})
	}
}

func TestMO(t *testing.T) {
	f, err := ReadPO("testdata/app.de.po")
	if err != nil {
		t.Fatal(err)
	}
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		var buf bytes.Buffer
		if err := WriteMO(&buf, f, bo); err != nil {
			t.Fatal(err)
		}
		g, err := ParseMO(buf.Bytes(), "app.mo")
		if err != nil {
			t.Fatal(err)
		}
		// header + 7 translated non-fuzzy non-obsolete entries, sorted.
		if len(g.Entries) != 8 {
			t.Fatalf("%v: %d entries", bo, len(g.Entries))
		}
		want := map[string]POEntry{}
		for _, e := range f.Entries {
			if !e.Obsolete && (e.IsHeader() || (e.Translated() && !e.Fuzzy())) {
				want[e.Context+"|"+e.ID] = e
			}
		}
		for _, e := range g.Entries {
			w, ok := want[e.Context+"|"+e.ID]
			if !ok || w.HasContext != e.HasContext || w.IDPlural != e.IDPlural || !reflect.DeepEqual(w.Str, e.Str) {
				t.Fatalf("%v: entry %+v, want %+v", bo, e, w)
			}
		}
		if n, _, ok, _ := g.PluralForms(); !ok || n != 2 {
			t.Fatal("header lost in .mo")
		}
		if len(g.Segments(false)) != 7 {
			t.Fatalf("%d segments", len(g.Segments(false)))
		}
	}
}

func TestMOErrors(t *testing.T) {
	var good bytes.Buffer
	WriteMO(&good, &POFile{Entries: []POEntry{{ID: "a", Str: []string{"b"}}}}, binary.LittleEndian)
	g := good.Bytes()
	mut := func(f func(b []byte)) []byte { b := bytes.Clone(g); f(b); return b }
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"short", g[:10], "too short"},
		{"magic", mut(func(b []byte) { b[0] = 0 }), "not a .mo file"},
		{"revision", mut(func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 2<<16) }), "revision 2.0"},
		{"count", mut(func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 1<<30) }), "do not fit"},
		{"offset", mut(func(b []byte) { binary.LittleEndian.PutUint32(b[32:], 1<<30) }), "past the end"},
		{"utf8", mut(func(b []byte) { b[len(b)-2] = 0xff }), "not valid UTF-8"},
		{"plural", mut(func(b []byte) { b[len(b)-1] = 0; b[len(b)-2] = 0 }), ""},
	}
	for _, c := range cases {
		_, err := ParseMO(c.b, "x.mo")
		if c.want == "" {
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "x.mo: ") {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func FuzzPO(f *testing.F) {
	raw, _ := os.ReadFile("testdata/app.de.po")
	f.Add(raw)
	f.Add([]byte("msgid \"a\"\nmsgid_plural \"b\"\nmsgstr[0] \"\"\nmsgstr[2] \"\"\n"))
	f.Add([]byte("#~ msgid \"a\"\n#~ msgstr \"\\x41\\101\"\n# end\n"))
	f.Add([]byte("msgid \"\\"))
	f.Add([]byte("msgctxt \"c\"\nmsgid \"\"\n\"x\\n\"\nmsgstr \"y\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePO(b, "fuzz.po")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error without file/line: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := WritePO(&buf, p); err != nil {
			t.Fatal(err)
		}
		q, err := ParsePO(buf.Bytes(), "again.po")
		if err != nil {
			t.Fatalf("written catalogue does not parse: %v\n%s", err, buf.String())
		}
		if !equivalentPO(p, q) {
			t.Fatalf("round trip changed the catalogue:\n%s", buf.String())
		}
	})
}

func FuzzMO(f *testing.F) {
	p, _ := ReadPO("testdata/app.de.po")
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		var buf bytes.Buffer
		WriteMO(&buf, p, bo)
		f.Add(buf.Bytes())
	}
	f.Add([]byte{0xde, 0x12, 0x04, 0x95, 0, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMO(b, "fuzz.mo")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteMO(&buf, m, binary.BigEndian); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseMO(buf.Bytes(), "again.mo"); err != nil {
			t.Fatalf("written .mo does not parse: %v", err)
		}
	})
}
