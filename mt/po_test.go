package mt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/metalearn/metalearn/data"
)

// reverseUpper is a deterministic fake model: word order reversed, words
// upper-cased. Sentinels pass through as words, so masking is exercised.
func reverseUpper(calls *int) Translator {
	return TranslatorFunc(func(ctx context.Context, texts []string, from, to string) ([]string, error) {
		if calls != nil {
			*calls++
		}
		out := make([]string, len(texts))
		for i, s := range texts {
			w := strings.Fields(s)
			slices.Reverse(w)
			out[i] = strings.ToUpper(strings.Join(w, " "))
		}
		return out, nil
	})
}

func readPOFile(t *testing.T, path string) (*data.POFile, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := data.ParsePO(raw, path)
	if err != nil {
		t.Fatal(err)
	}
	return f, raw
}

func writePO(t *testing.T, f *data.POFile) string {
	t.Helper()
	var b bytes.Buffer
	if err := data.WritePO(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// entryBlocks splits a written catalogue into its entries' text.
func entryBlocks(s string) []string { return strings.Split(s, "\n\n") }

func TestFillPORealistic(t *testing.T) {
	f, raw := readPOFile(t, "testdata/app.pot")
	var progress [][2]int
	g, rep, err := FillPO(context.Background(), f, reverseUpper(nil), FillOptions{To: "gl", BatchSize: 4,
		Progress: func(done, total int) { progress = append(progress, [2]int{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	// The input is unchanged.
	if writePO(t, f) != string(raw) {
		t.Fatal("FillPO changed its input")
	}
	// One repair: the reversal swapped the two %s of "Could not open".
	if rep.Entries != 19 || rep.Translated != 2 || rep.Filled != 16 || rep.Copied != 1 || rep.Repaired != 1 {
		t.Fatalf("report %+v", rep)
	}
	if n := len(progress); n == 0 || progress[n-1] != [2]int{rep.Texts, rep.Texts} || rep.Texts != 17 || n != 5 {
		t.Fatalf("progress %v, %d texts", progress, rep.Texts)
	}
	byID := map[string]data.POEntry{}
	for _, e := range g.Entries {
		if !e.Obsolete {
			byID[e.Context+"|"+e.ID] = e
		}
	}
	want := map[string][]string{
		"menu|Save":                                            {"SAVE"},
		"|Save _As…":                                           {"_AS… SAVE"},
		"insertbreak|linerb|~Line break":                       nil, // context with a "|": looked up below
		"|&Print the current document":                         {"DOCUMENT CURRENT THE &PRINT"},
		"|Could not open \"%s\": %s":                           {`%s "%s": OPEN NOT COULD`},
		"|%d file was deleted.":                                {"DELETED. WAS FILE %d", "DELETED. WERE FILES %d"},
		"|Copied %1$d of %2$d files to %3$s.":                  {"%3$s. TO FILES %2$d OF %1$d COPIED"},
		"|Shared with %(user)s on %(date)s":                    {"%(date)s ON %(user)s WITH SHARED"},
		"|Synchronising {0} of {1} folders in {name}…":         {"{name}… IN FOLDERS {1} OF {0} SYNCHRONISING"},
		"|Restart %PRODUCTNAME to apply the $(ARG1) settings.": {"SETTINGS. $(ARG1) THE APPLY TO %PRODUCTNAME RESTART"},
		"|Read the <a href=\"https://example.org/terms\">terms &amp; conditions</a> before you <b>continue</b>.": {
			`<b>CONTINUE</b>. YOU BEFORE CONDITIONS</a> &amp; <a href="https://example.org/terms">TERMS THE READ`},
		"|Built with @PACKAGE_VERSION@ for ${platform} by $user$.":  {"$user$. BY ${platform} FOR @PACKAGE_VERSION@ WITH BUILT"},
		"|Usage: writer [OPTION…] FILE\n\tOpen FILE for editing.\n": {"EDITING. FOR FILE FILE\n\tOPEN [OPTION…] WRITER USAGE:\n"},
		"|%s: %s":                                  {"%s: %s"},
		"|The spreadsheet could not be saved.":     {"SAVED. BE NOT COULD SPREADSHEET THE"},
		"|Remove the snake_case name of the style": {"STYLE THE OF NAME SNAKE_CASE THE REMOVE"},
	}
	for k, w := range want {
		if w == nil {
			continue
		}
		e, ok := byID[k]
		if !ok {
			t.Errorf("no entry %q", k)
			continue
		}
		if !slices.Equal(e.Str, w) || !e.Fuzzy() {
			t.Errorf("%q: msgstr %q fuzzy %v, want %q", k, e.Str, e.Fuzzy(), w)
		}
	}
	if e := byID["insertbreak|linerb|~Line break"]; e.Str[0] != "BREAK ~LINE" {
		t.Errorf("~Line break -> %q", e.Str[0])
	}
	if e := byID["|Could not open \"%s\": %s"]; !slices.Equal(e.Flags, []string{"fuzzy", "c-format"}) || e.Comments[0] != " Translators: %s is a file name." || len(e.Comments) != 2 ||
		e.Comments[1] != RepairComment+"machine translation repaired: the model reordered printf conversions; they are kept in source order" {
		t.Errorf("flags/comments %q %q", e.Flags, e.Comments)
	}
	// Header, translated (also fuzzy-translated) and obsolete entries are
	// byte-identical in the output.
	in, out := entryBlocks(string(raw)), entryBlocks(writePO(t, g))
	if len(in) != len(out) {
		t.Fatalf("%d blocks in, %d out", len(in), len(out))
	}
	same := 0
	for i := range in {
		if in[i] == out[i] {
			same++
			continue
		}
		if strings.Contains(in[i], `msgstr "_Abrir…"`) || strings.Contains(in[i], "#~") || strings.Contains(in[i], "Imprimir o documento") || strings.Contains(in[i], "Project-Id-Version") {
			t.Errorf("block %d changed:\n%s\n---\n%s", i, in[i], out[i])
		}
	}
	if same != 5 { // header, 2 translated, 2 obsolete
		t.Errorf("%d blocks unchanged, want 5", same)
	}
	msgfmtCheck(t, f, g, DefaultAccelerators)
	// Filling the filled catalogue again changes nothing.
	h, rep2, err := FillPO(context.Background(), g, reverseUpper(nil), FillOptions{To: "gl"})
	if err != nil || rep2.Filled != 0 || rep2.Texts != 0 || writePO(t, h) != writePO(t, g) {
		t.Fatalf("second fill: %+v %v", rep2, err)
	}
}

func TestFillPOGlossaryAndPlurals(t *testing.T) {
	po := `msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"

msgid "%d spreadsheet"
msgid_plural "%d spreadsheets"
msgstr[0] ""
msgstr[1] "%d arkusze"
msgstr[2] ""

msgid "Spreadsheet"
msgstr ""
`
	f, err := data.ParsePO([]byte(po), "pl.po")
	if err != nil {
		t.Fatal(err)
	}
	g, _ := ParseGlossary(strings.NewReader("spreadsheet\tarkusz\n"), "t.tsv")
	id := TranslatorFunc(func(ctx context.Context, texts []string, from, to string) ([]string, error) { return texts, nil })
	out, rep, err := FillPO(context.Background(), f, id, FillOptions{To: "pl", Glossary: g})
	if err != nil {
		t.Fatal(err)
	}
	p := out.Entries[1]
	if !slices.Equal(p.Str, []string{"%d arkusz", "%d arkusze", "%d spreadsheets"}) || !p.Fuzzy() {
		t.Errorf("plural forms %q", p.Str)
	}
	if s := out.Entries[2].Str[0]; s != "Arkusz" {
		t.Errorf("sentence-start term %q", s)
	}
	if rep.Filled != 2 {
		t.Errorf("%+v", rep)
	}
}

func TestFillPORepairs(t *testing.T) {
	f, _ := readPOFile(t, "testdata/app.pot")
	// A model that drops every sentinel.
	drop := TranslatorFunc(func(ctx context.Context, texts []string, from, to string) ([]string, error) {
		out := make([]string, len(texts))
		for i, s := range texts {
			out[i] = strings.Join(strings.Fields(sentinelRE.ReplaceAllString(s, "")), " ")
		}
		return out, nil
	})
	g, rep, err := FillPO(context.Background(), f, drop, FillOptions{To: "gl"})
	if err != nil {
		t.Fatal(err)
	}
	withSpans := 0
	for _, e := range f.Entries {
		m := Mask(e.ID, MaskOptions{})
		if !e.IsHeader() && !e.Obsolete && !e.Translated() && len(codeSpans(m)) > 0 && m.HasText() {
			withSpans++
		}
	}
	if rep.Repaired != withSpans || withSpans != 9 {
		t.Errorf("%d repaired, want %d (9)", rep.Repaired, withSpans)
	}
	checkPlaceholders(t, f, g, DefaultAccelerators)
	msgfmtCheck(t, f, g, DefaultAccelerators)
	for _, e := range g.Entries {
		if e.ID == `Could not open "%s": %s` {
			if e.Str[0] != `Could not open "" %s %s:` || !strings.HasPrefix(e.Comments[len(e.Comments)-1], RepairComment+`machine translation repaired: put back missing "%s"`) {
				t.Errorf("%q %q", e.Str[0], e.Comments)
			}
		}
	}
}

// checkPlaceholders asserts that every filled msgstr has exactly the
// msgid's placeholders and markup (as a multiset) and its accelerator.
func checkPlaceholders(t *testing.T, f, g *data.POFile, accels string) {
	t.Helper()
	for i, e := range g.Entries {
		if e.IsHeader() || e.Obsolete || f.Entries[i].Translated() {
			continue
		}
		for k, s := range e.Str {
			src := e.ID
			if k > 0 {
				src = e.IDPlural
			}
			// Each placeholder of the msgid as often in the msgstr (a
			// model may form new brace or tag text from its words).
			got, want := counts(placeholders(s)), counts(placeholders(src))
			for p, n := range want {
				if got[p] != n {
					t.Errorf("line %d: %q -> %q: %q %d times, want %d", e.Line, src, s, p, got[p], n)
				}
			}
			m := Mask(src, MaskOptions{Accelerators: accels})
			if m.Accel != 0 {
				if strings.Count(s, string(m.Accel)) != strings.Count(src, string(m.Accel)) {
					t.Errorf("line %d: %q -> %q: accelerator %c lost", e.Line, src, s, m.Accel)
				}
			}
		}
	}
}

func TestFillPOErrors(t *testing.T) {
	f, _ := readPOFile(t, "testdata/app.pot")
	short := TranslatorFunc(func(ctx context.Context, texts []string, from, to string) ([]string, error) { return texts[1:], nil })
	failing := TranslatorFunc(func(ctx context.Context, texts []string, from, to string) ([]string, error) {
		return nil, errors.New("model exploded")
	})
	// Invalid UTF-8 from a model becomes U+FFFD, with a repair comment.
	bad := TranslatorFunc(func(ctx context.Context, texts []string, from, to string) ([]string, error) {
		out := make([]string, len(texts))
		for i, s := range texts {
			out[i] = s + " \xff\xfe"
		}
		return out, nil
	})
	g, rep, err := FillPO(context.Background(), f, bad, FillOptions{To: "gl"})
	if err != nil || rep.Repaired != rep.Filled || rep.Filled != 16 {
		t.Fatalf("%v %+v", err, rep)
	}
	if _, err := data.ParsePO([]byte(writePO(t, g)), "out.po"); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		tr   Translator
		o    FillOptions
		want string
	}{
		{"no target", context.Background(), reverseUpper(nil), FillOptions{}, "no target language"},
		{"same", context.Background(), reverseUpper(nil), FillOptions{To: "en"}, `source and target language are both "en"`},
		{"language", context.Background(), reverseUpper(nil), FillOptions{To: "de"}, `the catalogue's Language is "gl", not "de"`},
		{"count", context.Background(), short, FillOptions{To: "gl"}, "returned 31 translations for 32 texts"},
		{"model", context.Background(), failing, FillOptions{To: "gl"}, "translating: model exploded"},
		{"cancelled", cancelled, reverseUpper(nil), FillOptions{To: "gl"}, "context canceled"},
	}
	for _, c := range cases {
		_, _, err := FillPO(c.ctx, f, c.tr, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			if c.name == "count" && err != nil && strings.Contains(err.Error(), "translations for") {
				continue
			}
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

// injections turn a clean lo-mt English string into a catalogue message
// with placeholders, markup and accelerators, deterministically.
var injections = []func(s string, r *rand.Rand) string{
	func(s string, r *rand.Rand) string { return "%s: " + s },
	func(s string, r *rand.Rand) string { return strings.TrimRight(s, ".") + " (%d)" },
	func(s string, r *rand.Rand) string { return "~" + s },
	func(s string, r *rand.Rand) string { return injectAccel(s, '_', r) },
	func(s string, r *rand.Rand) string { return "&" + s },
	func(s string, r *rand.Rand) string { return strings.Replace(s, " ", " {0} ", 1) },
	func(s string, r *rand.Rand) string { return "<b>" + s + "</b>" },
	func(s string, r *rand.Rand) string { return s + " %1$d/%2$s" },
	func(s string, r *rand.Rand) string { return strings.Replace(s, " ", " %PRODUCTNAME ", 1) + " $(ARG1)" },
	func(s string, r *rand.Rand) string { return "%(name)s " + s + " &amp; ${x} $var$ @VAR@" },
	func(s string, r *rand.Rand) string { return s + "\n" },
	func(s string, r *rand.Rand) string { return s },
}

// injectAccel puts marker a before a random letter of s.
func injectAccel(s string, a rune, r *rand.Rand) string {
	var at []int
	for i, c := range s {
		if isWordRune(c) && c < 128 {
			at = append(at, i)
		}
	}
	if len(at) == 0 || strings.ContainsRune(s, a) {
		return s
	}
	i := at[r.IntN(len(at))]
	return s[:i] + string(a) + s[i:]
}

func TestFillPOLoMT(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "lo-mt")
	segs, err := data.LoadLoMT(dir, "dev", "gl")
	if err != nil {
		t.Skipf("lo-mt not available (%v): the catalogue test on real strings needs ../shared/data/lo-mt", err)
	}
	more, err := data.LoadLoMT(dir, "test", "gl")
	if err != nil {
		t.Fatal(err)
	}
	segs = append(segs, more...)
	train, err := data.LoadLoMT(dir, "train", "gl")
	if err != nil {
		t.Fatal(err)
	}
	segs = append(segs, train[:2500]...) // 4,000 messages in all
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\nLanguage: gl\\nPlural-Forms: nplurals=2; plural=(n != 1);\\n\"\n")
	ref := map[string]string{} // masked English -> Galician reference
	for i, s := range segs {
		inj := injections[i%len(injections)]
		src := inj(s.Source, r)
		fmt.Fprintf(&b, "\nmsgctxt \"%s\"\n", s.ID)
		if i%50 == 0 {
			plural := strings.TrimSuffix(src, "\n") + " (%d)" + src[len(strings.TrimSuffix(src, "\n")):]
			fmt.Fprintf(&b, "msgid %s\nmsgid_plural %s\nmsgstr[0] \"\"\nmsgstr[1] \"\"\n", poQuote(src), poQuote(plural))
		} else if i%10 == 0 {
			// A translated entry: the English as it is, the reference.
			src = s.Source
			fmt.Fprintf(&b, "msgid %s\nmsgstr %s\n", poQuote(src), poQuote(s.Target))
		} else {
			fmt.Fprintf(&b, "msgid %s\nmsgstr \"\"\n", poQuote(src))
		}
		m := Mask(src, MaskOptions{Accelerators: DefaultAccelerators})
		ref[m.Text] = s.Target
	}
	f, err := data.ParsePO([]byte(b.String()), "lo-mt.po")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) < 4000 {
		t.Fatalf("%d entries", len(f.Entries))
	}
	// The reference model: the Galician reference text with no
	// placeholders at all (the worst a model can do), or passing the
	// sentinels through reversed (reverseUpper).
	lookup := TranslatorFunc(func(ctx context.Context, texts []string, from, to string) ([]string, error) {
		out := make([]string, len(texts))
		for i, s := range texts {
			if g, ok := ref[s]; ok {
				out[i] = g
			} else {
				out[i] = strings.ToUpper(s) // the plural forms
			}
		}
		return out, nil
	})
	reordered := 0
	for _, e := range f.Entries {
		if e.Translated() {
			continue
		}
		for _, src := range []string{e.ID, e.IDPlural} {
			n := 0
			for _, sp := range Mask(src, MaskOptions{}).Spans {
				if orderDependent(sp) {
					n++
				}
			}
			if n > 1 {
				reordered++
				break
			}
		}
	}
	if reordered == 0 {
		t.Fatal("no entry with several printf conversions")
	}
	for name, tr := range map[string]Translator{"reference": lookup, "reverse": reverseUpper(nil)} {
		g, rep, err := FillPO(context.Background(), f, tr, FillOptions{To: "gl", BatchSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		checkPlaceholders(t, f, g, DefaultAccelerators)
		msgfmtCheck(t, f, g, DefaultAccelerators)
		for i, e := range g.Entries {
			o := f.Entries[i]
			if o.IsHeader() || o.Translated() {
				if !slices.Equal(e.Str, o.Str) || !slices.Equal(e.Flags, o.Flags) {
					t.Fatalf("translated entry changed: %+v", e)
				}
				continue
			}
			if !e.Fuzzy() || !e.Translated() {
				t.Fatalf("%s: entry not filled or not fuzzy: %+v", name, e)
			}
			if strings.Contains(strings.Join(e.Str, ""), SentinelOpen) {
				t.Fatalf("%s: sentinel left in %q", name, e.Str)
			}
		}
		if name == "reverse" && rep.Repaired != reordered {
			t.Errorf("reverse: %d repairs, want %d (the entries with several printf conversions, reversed)", rep.Repaired, reordered)
		}
		if name == "reference" && rep.Repaired < rep.Filled/2 {
			t.Errorf("reference: %d repairs of %d filled", rep.Repaired, rep.Filled)
		}
		t.Logf("%s: %+v", name, rep)
	}
}

func poQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`).Replace(s) + `"`
}

// msgfmtCheck runs GNU msgfmt's format check on the filled entries of
// g (fuzzy included) and, for each accelerator marker, its accelerator
// check on the filled entries whose msgid has that accelerator, when
// msgfmt is installed. (msgfmt counts every marker character, so "Apps &
// features" would count as an accelerator there; Mask does not.)
func msgfmtCheck(t *testing.T, f, g *data.POFile, accels string) {
	t.Helper()
	bin, err := exec.LookPath("msgfmt")
	if err != nil {
		t.Log("msgfmt not installed: the GNU gettext cross-check is skipped")
		return
	}
	run := func(keep func(e data.POEntry) bool, args ...string) {
		filled := &data.POFile{}
		for i, e := range g.Entries {
			if e.IsHeader() || (!e.Obsolete && !f.Entries[i].Translated() && keep(e)) {
				filled.Entries = append(filled.Entries, e)
			}
		}
		p := filepath.Join(t.TempDir(), "filled.po")
		if err := os.WriteFile(p, []byte(writePO(t, filled)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, append(args, "--use-fuzzy", "-o", os.DevNull, p)...).CombinedOutput()
		if err != nil {
			t.Errorf("msgfmt %v (%d entries): %v\n%s", args, len(filled.Entries)-1, err, out)
		}
	}
	run(func(data.POEntry) bool { return true }, "--check-format")
	for _, a := range accels {
		run(func(e data.POEntry) bool {
			return Mask(e.ID, MaskOptions{Accelerators: string(a)}).Accel == a
		}, "--check-accelerators="+string(a))
	}
}

// TestFillPOSystemCatalogues fills real catalogues: the German .mo files
// of common programs installed on this machine (coreutils, git, glib,
// apt, dpkg, bash), turned into templates (msgstr emptied; c-format where
// the msgid has a printf conversion, as xgettext marks it). Whatever the
// model does (reversed words, every sentinel dropped), each filled entry
// keeps its placeholders and GNU msgfmt --check-format accepts the
// result. Skips when none of these catalogues is installed.
func TestFillPOSystemCatalogues(t *testing.T) {
	var f data.POFile
	seen := map[string]bool{}
	hdr := data.POEntry{Str: []string{"Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"}}
	f.Entries = append(f.Entries, hdr)
	var names []string
	for _, n := range []string{"coreutils", "git", "glib20", "apt", "dpkg", "bash"} {
		mo, err := data.ReadMO(filepath.Join("/usr/share/locale/de/LC_MESSAGES", n+".mo"))
		if err != nil {
			continue
		}
		names = append(names, n)
		for _, e := range mo.Entries {
			if e.IsHeader() || e.Obsolete || seen[e.Context+"\x04"+e.ID] || (e.HasPlural && len(e.Str) != 2) {
				continue
			}
			seen[e.Context+"\x04"+e.ID] = true
			x := data.POEntry{Context: e.Context, HasContext: e.HasContext, ID: e.ID, IDPlural: e.IDPlural, HasPlural: e.HasPlural, Str: make([]string, len(e.Str))}
			for _, sp := range Mask(e.ID, MaskOptions{}).Spans {
				if orderDependent(sp) || strings.Contains(sp.Text, "$") && strings.HasPrefix(sp.Text, "%") {
					x.Flags = []string{"c-format"}
					break
				}
			}
			f.Entries = append(f.Entries, x)
		}
	}
	if len(f.Entries) < 1000 {
		t.Skipf("no system catalogues (/usr/share/locale/de/LC_MESSAGES/{coreutils,git,glib20,apt,dpkg,bash}.mo): %d entries", len(f.Entries))
	}
	// The file round-trips through the writer and parser first.
	g0, err := data.ParsePO([]byte(writePO(t, &f)), "system.pot")
	if err != nil {
		t.Fatal(err)
	}
	drop := TranslatorFunc(func(ctx context.Context, texts []string, from, to string) ([]string, error) {
		out := make([]string, len(texts))
		for i, s := range texts {
			out[i] = strings.Join(strings.Fields(sentinelRE.ReplaceAllString(s, "")), " ")
		}
		return out, nil
	})
	for name, tr := range map[string]Translator{"reverse": reverseUpper(nil), "drop": drop} {
		g, rep, err := FillPO(context.Background(), g0, tr, FillOptions{To: "de", Accelerators: "_&"})
		if err != nil {
			t.Fatal(err)
		}
		checkPlaceholders(t, g0, g, "_&")
		msgfmtCheck(t, g0, g, "")
		t.Logf("%s on %v: %+v", name, names, rep)
	}
}

func counts(xs []string) map[string]int {
	m := map[string]int{}
	for _, x := range xs {
		m[x]++
	}
	return m
}
