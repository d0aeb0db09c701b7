package mt

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func codeSpans(m Masked) []string {
	var out []string
	for _, s := range m.Spans {
		if s.Kind == SpanCode {
			out = append(out, s.Text)
		}
	}
	return out
}

func TestMaskPlaceholders(t *testing.T) {
	cases := []struct {
		in, text string
		spans    []string
	}{
		{"Could not open \"%s\": %s", "Could not open \"⟦0⟧\": ⟦1⟧", []string{"%s", "%s"}},
		{"%d files, %5.2f%% done, %lu bytes", "⟦0⟧ files, ⟦1⟧⟦2⟧ done, ⟦3⟧ bytes", []string{"%d", "%5.2f", "%%", "%lu"}},
		{"Copied %1$d of %2$d to %3$s.", "Copied ⟦0⟧ of ⟦1⟧ to ⟦2⟧.", []string{"%1$d", "%2$d", "%3$s"}},
		{"Shared with %(user)s at %(pct).1f%%", "Shared with ⟦0⟧ at ⟦1⟧⟦2⟧", []string{"%(user)s", "%(pct).1f", "%%"}},
		{"{0} of {1} in {name} ({size:N2}) {}", "⟦0⟧ of ⟦1⟧ in ⟦2⟧ (⟦3⟧) ⟦4⟧", []string{"{0}", "{1}", "{name}", "{size:N2}", "{}"}},
		{"Restart %PRODUCTNAME for $(ARG1)", "Restart ⟦0⟧ for ⟦1⟧", []string{"%PRODUCTNAME", "$(ARG1)"}},
		{"Built @VERSION@ on ${os} by $user$ ($1)", "Built ⟦0⟧ on ⟦1⟧ by ⟦2⟧ (⟦3⟧)", []string{"@VERSION@", "${os}", "$user$", "$1"}},
		{"Qt: %1 of %2", "Qt: ⟦0⟧ of ⟦1⟧", []string{"%1", "%2"}},
		{`Read <a href="x.html">the terms &amp; rules</a><br/>`, "Read ⟦0⟧the terms ⟦1⟧ rules⟦2⟧⟦3⟧", []string{`<a href="x.html">`, "&amp;", "</a>", "<br/>"}},
		{"a<!-- note -->b &#169; &#x2014;", "a⟦0⟧b ⟦1⟧ ⟦2⟧", []string{"<!-- note -->", "&#169;", "&#x2014;"}},
		{"Line one\nline two\tend", "Line one⟦0⟧line two⟦1⟧end", []string{"\n", "\t"}},
		{"Tom && Jerry", "Tom ⟦0⟧ Jerry", []string{"&&"}},
		{"brackets ⟦0⟧ already", "brackets ⟦0⟧0⟦1⟧ already", []string{"⟦", "⟧"}},
		{"100% sure, 5 < 6 and a > b", "100% sure, 5 < 6 and a > b", nil},
		{"  padded\n", "padded", nil},
	}
	for _, c := range cases {
		m := Mask(c.in, MaskOptions{})
		if m.Text != c.text || !reflect.DeepEqual(codeSpans(m), c.spans) {
			t.Errorf("Mask(%q) = %q %q, want %q %q", c.in, m.Text, codeSpans(m), c.text, c.spans)
		}
		if r := m.Unmask(m.Text); r.Text != c.in || len(r.Problems) > 0 {
			t.Errorf("Unmask(Mask(%q)) = %q %v", c.in, r.Text, r.Problems)
		}
	}
}

func TestAccelerators(t *testing.T) {
	cases := []struct {
		in, masked, translation, want string
	}{
		{"_Open…", "Open…", "Abrir…", "_Abrir…"},
		{"E_xit", "Exit", "Saír", "_Saír"},                                 // no x: the first letter
		{"Save _As…", "Save As…", "Gardar como…", "G_ardar como…"},         // no a at a word start: the first a
		{"~Line break", "Line break", "Quebra de liña", "Quebra de ~liña"}, // l at a word start
		{"&File", "File", "&Ficheiro", "&Ficheiro"},                        // the model placed the marker: kept, not doubled
		{"Print %s with ~Options", "Print ⟦0⟧ with Options", "Imprimir ⟦0⟧ con opcións", "Imprimir %s con ~opcións"},
		{"_Open", "Open", "開く", "開く"},
		{"file_name and user_id", "file_name and user_id", "x", "x"}, // two markers: no mnemonic
		{"Pr_eferences", "Preferences", "Preferencias", "Pr_eferencias"},
		{"snake_case", "snakecase", "caso serpe", "_caso serpe"}, // one marker: a mnemonic
		{"Fish & Chips", "Fish & Chips", "Peixe e patacas", "Peixe e patacas"},
		{"Tom &amp; _Jerry", "Tom ⟦0⟧ Jerry", "Tom ⟦0⟧ Jerry", "Tom &amp; _Jerry"},
	}
	for _, c := range cases {
		m := Mask(c.in, MaskOptions{Accelerators: DefaultAccelerators})
		if m.Text != c.masked {
			t.Errorf("Mask(%q) = %q, want %q", c.in, m.Text, c.masked)
		}
		got := m.Unmask(c.translation).Text
		want := c.want
		switch c.in {
		case "_Open":
			want = "開く(_O)"
		}
		if got != want {
			t.Errorf("Unmask(%q, %q) = %q, want %q", c.in, c.translation, got, want)
		}
		if strings.Count(got, string(m.Accel)) < 1 && m.Accel != 0 {
			t.Errorf("%q: accelerator lost in %q", c.in, got)
		}
		if r := m.Unmask(m.Text); r.Text != c.in {
			t.Errorf("identity: %q -> %q", c.in, r.Text)
		}
	}
}

func TestUnmaskRepairs(t *testing.T) {
	m := Mask("%s: could not copy %d files to %s.", MaskOptions{})
	if m.Text != "⟦0⟧: could not copy ⟦1⟧ files to ⟦2⟧." {
		t.Fatal(m.Text)
	}
	cases := []struct {
		out, want string
		problems  int
	}{
		{"⟦0⟧: non se puideron copiar ⟦1⟧ ficheiros a ⟦2⟧.", "%s: non se puideron copiar %d ficheiros a %s.", 0},
		{"⟦ 0 ⟧: copia ⟦1 ⟧ a ⟦2⟧.", "%s: copia %d a %s.", 0},
		{"Non se puideron copiar ficheiros.", "%s Non se puideron copiar ficheiros %d %s.", 3},
		{"⟦0⟧ ⟦0⟧: copiar ⟦1⟧ ⟦1⟧ a ⟦2⟧ ⟦7⟧", "%s : copiar %d  a %s ", 3},
		{"", "%s %d %s", 3},
	}
	for _, c := range cases {
		r := m.Unmask(c.out)
		if r.Text != c.want || len(r.Problems) != c.problems {
			t.Errorf("Unmask(%q) = %q %q, want %q with %d problems", c.out, r.Text, r.Problems, c.want, c.problems)
		}
		if got, want := placeholders(r.Text), placeholders("%s: could not copy %d files to %s."); !slices.Equal(got, want) {
			t.Errorf("%q: placeholders %q, want %q", c.out, got, want)
		}
	}
	// Reordered conversions go back to source order where the model put
	// them (the arguments come in source order).
	m2 := Mask("%s has %d files", MaskOptions{})
	if r := m2.Unmask("⟦1⟧ ficheiros en ⟦0⟧"); r.Text != "%s ficheiros en %d" || len(r.Problems) != 1 {
		t.Errorf("reordered: %q %q", r.Text, r.Problems)
	}
	m2 = Mask("%2$s has %1$d files in {0}", MaskOptions{})
	if r := m2.Unmask("⟦2⟧: ⟦1⟧ ficheiros en ⟦0⟧"); r.Text != "{0}: %1$d ficheiros en %2$s" || len(r.Problems) != 0 {
		t.Errorf("positional: %q %q", r.Text, r.Problems)
	}
	// A dropped line break goes back in place of the space nearest its
	// relative position, not at an end (msgfmt wants both or neither to
	// end with a newline).
	m3 := Mask("the options are\nmutually exclusive", MaskOptions{})
	if r := m3.Unmask("as opcións son mutuamente excluíntes"); r.Text != "as opcións son\nmutuamente excluíntes" || len(r.Problems) != 1 {
		t.Errorf("line break: %q %q", r.Text, r.Problems)
	}
	if r := m3.Unmask("excluíntes"); strings.Count(r.Text, "\n") != 1 {
		t.Errorf("line break without a space to take: %q", r.Text)
	}
	// A source without spans: stray sentinels from the model are removed.
	m = Mask("Hello world", MaskOptions{})
	if r := m.Unmask("Ola ⟦3⟧mundo"); r.Text != "Ola mundo" || len(r.Problems) != 1 {
		t.Errorf("stray sentinel: %q %v", r.Text, r.Problems)
	}
}

// placeholders lists the code spans of s, sorted, with the control
// characters counted one by one (a span of them put back at the end of a
// translation joins the trailing whitespace).
func placeholders(s string) []string {
	var out []string
	for _, x := range placeholderRE.FindAllString(s, -1) {
		if strings.TrimSpace(x) != "" {
			out = append(out, x)
		}
	}
	for _, c := range "\n\t\r\v\f" {
		for range strings.Count(s, string(c)) {
			out = append(out, string(c))
		}
	}
	slices.Sort(out)
	return out
}

func TestGlossary(t *testing.T) {
	g, err := ParseGlossary(strings.NewReader("# terms\nspreadsheet\tfolla de cálculo\nspreadsheet settings\tpreferencias da folla\ncell\tcela\nPDF\tPDF\n"), "terms.tsv")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in, masked, out, want string
	}{
		{"The spreadsheet could not be saved.", "The ⟦0⟧ could not be saved.", "Non se puido gardar a ⟦0⟧.", "Non se puido gardar a folla de cálculo."},
		{"Spreadsheet cannot be empty.", "⟦0⟧ cannot be empty.", "⟦0⟧ non pode estar baleira.", "Folla de cálculo non pode estar baleira."},
		{"Open Spreadsheet Settings", "Open ⟦0⟧", "Abrir ⟦0⟧", "Abrir Preferencias da folla"},
		{"Merge %d cells in SPREADSHEET", "Merge ⟦0⟧ cells in ⟦1⟧", "Combinar ⟦0⟧ celas en ⟦1⟧", "Combinar %d celas en FOLLA DE CÁLCULO"}, // "cells" is not the term "cell"
		{"Cell.", "⟦0⟧.", "⟦0⟧.", "Cela."},
		{"Export as PDF. Cell formats are kept.", "Export as ⟦0⟧. ⟦1⟧ formats are kept.", "Os formatos de ⟦1⟧ mantéñense ao exportar a ⟦0⟧.", "Os formatos de cela mantéñense ao exportar a PDF."},
		{"Spreadsheets", "Spreadsheets", "Follas", "Follas"},
	}
	for _, c := range cases {
		m := Mask(c.in, MaskOptions{Glossary: g})
		if m.Text != c.masked {
			t.Errorf("Mask(%q) = %q, want %q", c.in, m.Text, c.masked)
			continue
		}
		if r := m.Unmask(c.out); r.Text != c.want || len(r.Problems) > 0 {
			t.Errorf("Unmask(%q) = %q %v, want %q", c.out, r.Text, r.Problems, c.want)
		}
	}
	// A dropped term comes back as its target.
	m := Mask("Delete the cell", MaskOptions{Glossary: g})
	if r := m.Unmask("Eliminar"); r.Text != "Eliminar cela" || len(r.Problems) != 1 {
		t.Errorf("dropped term: %q %v", r.Text, r.Problems)
	}
	// The accelerator may go inside a term.
	m = Mask("_Cell", MaskOptions{Glossary: g, Accelerators: DefaultAccelerators})
	if r := m.Unmask("⟦0⟧"); r.Text != "_Cela" {
		t.Errorf("accelerator in a term: %q", r.Text)
	}
}

func TestGlossaryErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a\tb\tc\n", "terms.tsv:1: 3 columns, want 2"},
		{"\n\nonly\n", "terms.tsv:3: 1 columns, want 2"},
		{"a\t \n", "terms.tsv:1: empty source or target term"},
		{"a\tb\nA\tc\n", `terms.tsv: glossary term "A": given twice, as "b" and "c"`},
		{"a⟦\tb\n", "terms.tsv:1: a term contains a sentinel bracket"},
		{"a\t\xff\n", "terms.tsv:1: invalid UTF-8"},
	}
	for _, c := range cases {
		_, err := ParseGlossary(strings.NewReader(c.in), "terms.tsv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}

// FuzzMask: masking then restoring the untouched masked text gives back
// the string exactly, with no repairs, whatever the string.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"", "_Open…", "%1$d of %(n)s {0} $(A) @V@ ${x} $n$ %PRODUCTNAME", "<a href=\"x\">&amp;</a>", " \n~Save\t", "⟦0⟧ ⟦", "E_xit && ~~", "\xff_\xfe", "a_b _c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Mask(s, MaskOptions{Accelerators: DefaultAccelerators})
		r := m.Unmask(m.Text)
		if r.Text != s || len(r.Problems) > 0 {
			t.Fatalf("Mask/Unmask(%q) = %q %v (masked %q)", s, r.Text, r.Problems, m.Text)
		}
		// Whatever the model does, no code span is lost or doubled.
		for _, out := range []string{"", "x", sentinelRE.ReplaceAllString(m.Text, "⟦0⟧⟦0⟧")} {
			r := m.Unmask(out)
			want := 0
			for _, sp := range m.Spans {
				if sp.Kind == SpanCode {
					want++
				}
			}
			got := 0
			for _, sp := range m.Spans {
				if sp.Kind == SpanCode && strings.Contains(r.Text, sp.Text) {
					got++
				}
			}
			if got != want {
				t.Fatalf("%q -> %q: %d of %d spans present", out, r.Text, got, want)
			}
		}
	})
}
