package data

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDataPath returns the path of rel (e.g. "mtr-mulan/enb.arff")
// inside the project's shared data folder: $METALEARN_DATA/rel when that
// variable is set, otherwise shared/data/rel in the working directory or
// the nearest parent holding it. It skips the test when rel is absent.
func sharedDataPath(t testing.TB, rel string) string {
	t.Helper()
	if d := os.Getenv("METALEARN_DATA"); d != "" {
		p := filepath.Join(d, rel)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("METALEARN_DATA=%s is set but %s is missing: %v", d, p, err)
		}
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Skipf("skipping real-data test: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	t.Skipf("skipping real-data test: no shared/data/%s in %s or any parent (the project expects ../shared/data next to its root; set METALEARN_DATA to the data folder to point elsewhere)", rel, wd)
	return ""
}

// checkARFFInvariants verifies what ParseARFF promises about its result.
func checkARFFInvariants(t testing.TB, a *ARFF) {
	t.Helper()
	if len(a.Attributes) == 0 {
		t.Fatalf("no attributes")
	}
	if len(a.Rows) != len(a.Missing) {
		t.Fatalf("%d rows, %d missing-mask rows", len(a.Rows), len(a.Missing))
	}
	for i, row := range a.Rows {
		if len(row) != len(a.Attributes) || len(a.Missing[i]) != len(a.Attributes) {
			t.Fatalf("row %d: %d values, %d mask entries, %d attributes", i, len(row), len(a.Missing[i]), len(a.Attributes))
		}
		for j, v := range row {
			if math.IsNaN(v) != a.Missing[i][j] || math.IsInf(v, 0) {
				t.Fatalf("row %d attribute %d: value %v, missing %v", i, j, v, a.Missing[i][j])
			}
			if at := a.Attributes[j]; at.IsNominal() && !a.Missing[i][j] && (v != math.Trunc(v) || v < 0 || int(v) >= len(at.Values)) {
				t.Fatalf("row %d nominal attribute %d: index %v of %d values", i, j, v, len(at.Values))
			}
		}
	}
}

// arffNaN marks an expected missing value.
var arffNaN = math.NaN()

func TestReadARFF(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		relation string
		attrs    []ARFFAttribute
		rows     [][]float64 // NaN = missing
	}{
		{
			name:     "dense numeric",
			src:      "@relation r\n@attribute a numeric\n@attribute b real\n@attribute c integer\n@data\n1,2.5,-3\n4e2,0,7\n",
			relation: "r",
			attrs:    []ARFFAttribute{{Name: "a", Type: "numeric"}, {Name: "b", Type: "real"}, {Name: "c", Type: "integer"}},
			rows:     [][]float64{{1, 2.5, -3}, {400, 0, 7}},
		},
		{
			name:     "comments, blank lines, case, spaces, CRLF",
			src:      "% header comment\r\n\r\n@RELATION 'my data'\r\n@Attribute   x   NUMERIC   \r\n%\r\n@ATTRIBUTE y Numeric % trailing comment\r\n@DATA\r\n  1 ,  2  \r\n% between rows\r\n\r\n3,4 % after row\r\n",
			relation: "my data",
			attrs:    []ARFFAttribute{{Name: "x", Type: "numeric"}, {Name: "y", Type: "numeric"}},
			rows:     [][]float64{{1, 2}, {3, 4}},
		},
		{
			name:     "quoted names",
			src:      "@relation \"r % 1\"\n@attribute 'first value' numeric\n@attribute \"'dq'\" NUMERIC\n@attribute 'it\\'s' real\n@data\n1,2,3\n",
			relation: "r % 1",
			attrs:    []ARFFAttribute{{Name: "first value", Type: "numeric"}, {Name: "'dq'", Type: "numeric"}, {Name: "it's", Type: "real"}},
			rows:     [][]float64{{1, 2, 3}},
		},
		{
			name:     "nominal",
			src:      "@relation n\n@attribute c {A, B,'C D'}\n@attribute d{1,2}\n@attribute y numeric\n@data\nB, 2, 0.5\n'C D',1,1\nA,?,2\n",
			relation: "n",
			attrs:    []ARFFAttribute{{Name: "c", Type: "nominal", Values: []string{"A", "B", "C D"}}, {Name: "d", Type: "nominal", Values: []string{"1", "2"}}, {Name: "y", Type: "numeric"}},
			rows:     [][]float64{{1, 1, 0.5}, {2, 0, 1}, {0, arffNaN, 2}},
		},
		{
			name:     "missing values",
			src:      "@relation m\n@attribute a numeric\n@attribute b numeric\n@data\n?,1\n2, ?\n",
			relation: "m",
			attrs:    []ARFFAttribute{{Name: "a", Type: "numeric"}, {Name: "b", Type: "numeric"}},
			rows:     [][]float64{{arffNaN, 1}, {2, arffNaN}},
		},
		{
			name:     "sparse rows",
			src:      "@relation s\n@attribute a numeric\n@attribute b {x,y}\n@attribute c numeric\n@data\n{0 1.5, 2 3}\n{1 y}\n{}\n{ 2 ? }\n1,x,2\n",
			relation: "s",
			attrs:    []ARFFAttribute{{Name: "a", Type: "numeric"}, {Name: "b", Type: "nominal", Values: []string{"x", "y"}}, {Name: "c", Type: "numeric"}},
			rows:     [][]float64{{1.5, 0, 3}, {0, 1, 0}, {0, 0, 0}, {0, 0, arffNaN}, {1, 0, 2}},
		},
		{
			name:     "empty data section",
			src:      "@relation e\n@attribute a numeric\n@data\n",
			relation: "e",
			attrs:    []ARFFAttribute{{Name: "a", Type: "numeric"}},
		},
		{
			name:     "byte order mark",
			src:      "\ufeff@relation b\n@attribute a numeric\n@data\n5\n",
			relation: "b",
			attrs:    []ARFFAttribute{{Name: "a", Type: "numeric"}},
			rows:     [][]float64{{5}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseARFF(strings.NewReader(tc.src), "test.arff")
			if err != nil {
				t.Fatal(err)
			}
			checkARFFInvariants(t, a)
			if a.Relation != tc.relation {
				t.Errorf("relation %q, want %q", a.Relation, tc.relation)
			}
			if len(a.Attributes) != len(tc.attrs) {
				t.Fatalf("attributes %+v, want %+v", a.Attributes, tc.attrs)
			}
			for i, at := range a.Attributes {
				w := tc.attrs[i]
				if at.Name != w.Name || at.Type != w.Type || strings.Join(at.Values, "|") != strings.Join(w.Values, "|") || at.IsNominal() != (w.Values != nil) {
					t.Errorf("attribute %d: %+v, want %+v", i, at, w)
				}
			}
			if len(a.Rows) != len(tc.rows) {
				t.Fatalf("%d rows %v, want %d", len(a.Rows), a.Rows, len(tc.rows))
			}
			for i, row := range a.Rows {
				for j, v := range row {
					w := tc.rows[i][j]
					if math.IsNaN(w) != a.Missing[i][j] || (!math.IsNaN(w) && v != w) {
						t.Errorf("row %d col %d: %v (missing %v), want %v", i, j, v, a.Missing[i][j], w)
					}
				}
			}
		})
	}
}

func TestReadARFFErrors(t *testing.T) {
	const head = "@relation r\n@attribute a numeric\n@attribute 'b b' numeric\n@data\n"
	tests := []struct {
		name string
		src  string
		want []string // substrings of the error
	}{
		{"empty file", "", []string{"bad.arff", "no @data"}},
		{"no data section", "@relation r\n@attribute a numeric\n", []string{"bad.arff", "no @data", "1 attributes"}},
		{"data before attributes", "@relation r\n@data\n1\n", []string{"bad.arff:2", "@data before any @attribute"}},
		{"ragged row short", head + "1,2\n3\n", []string{"bad.arff:6", "1 values, want 2"}},
		{"ragged row long", head + "1,2,3\n", []string{"bad.arff:5", "3 values, want 2"}},
		{"trailing comma", head + "1,2,\n", []string{"bad.arff:5", "3 values, want 2"}},
		{"non-numeric cell", head + "1,2\n1,abc\n", []string{"bad.arff:6", "attribute 2 (b b)", `"abc" is not a finite number`}},
		{"empty cell", head + "1,\n", []string{"bad.arff:5", "attribute 2 (b b)", `"" is not`}},
		{"NaN cell", head + "NaN,1\n", []string{"bad.arff:5", "attribute 1 (a)", "NaN"}},
		{"Inf cell", head + "1,+Inf\n", []string{"bad.arff:5", "attribute 2 (b b)"}},
		{"string attribute", "@relation r\n@attribute name string\n@data\n", []string{"bad.arff:2", `attribute "name"`, "string is not supported"}},
		{"date attribute", "@relation r\n@attribute 'when' date \"yyyy-MM-dd\"\n@data\n", []string{"bad.arff:2", `attribute "when"`, "date is not supported"}},
		{"relational attribute", "@relation r\n@attribute bag relational\n", []string{"bad.arff:2", `attribute "bag"`, "relational"}},
		{"unknown type", "@relation r\n@attribute a float\n@data\n", []string{"bad.arff:2", `attribute "a"`, `unknown type "float"`}},
		{"missing type", "@relation r\n@attribute a\n@data\n", []string{"bad.arff:2", `attribute "a" has no type`}},
		{"text after type", "@relation r\n@attribute a numeric extra\n", []string{"bad.arff:2", "unexpected text"}},
		{"duplicate attribute", "@relation r\n@attribute a numeric\n@attribute a real\n", []string{"bad.arff:3", `attribute "a" declared twice`}},
		{"unknown keyword", "@relation r\n@attr a numeric\n", []string{"bad.arff:2", `unknown keyword "@attr"`}},
		{"stray header text", "@relation r\nhello\n", []string{"bad.arff:2", "unexpected text before @data"}},
		{"unterminated quote in name", "@relation r\n@attribute 'a numeric\n", []string{"bad.arff:2", "unterminated"}},
		{"unterminated nominal list", "@relation r\n@attribute c {a,b\n", []string{"bad.arff:2", `attribute "c"`, "does not end with '}'"}},
		{"duplicate nominal value", "@relation r\n@attribute c {a,b,a}\n", []string{"bad.arff:2", `nominal value "a" declared twice`}},
		{"empty nominal value", "@relation r\n@attribute c {a,,b}\n", []string{"bad.arff:2", "empty nominal value"}},
		{"unknown nominal value", "@relation r\n@attribute c {a,b}\n@data\nz\n", []string{"bad.arff:4", "attribute 1 (c)", `"z" is not one of its nominal values {a,b}`}},
		{"quoted missing is a value", "@relation r\n@attribute c {a,b}\n@data\n'?'\n", []string{"bad.arff:4", `"?" is not one of`}},
		{"unterminated quote in row", head + "'1,2\n", []string{"bad.arff:5", "unterminated ' quote"}},
		{"text after quoted cell", head + "'1' x,2\n", []string{"bad.arff:5", "after quoted value"}},
		{"sparse index out of range", head + "{2 1}\n", []string{"bad.arff:5", `index "2" is not in 0..1`}},
		{"sparse negative index", head + "{-1 1}\n", []string{"bad.arff:5", "is not in 0..1"}},
		{"sparse bad index", head + "{a 1}\n", []string{"bad.arff:5", `index "a"`}},
		{"sparse without value", head + "{1}\n", []string{"bad.arff:5", `want "index value"`}},
		{"sparse duplicate index", head + "{1 1, 1 2}\n", []string{"bad.arff:5", "attribute 1 (b b) given twice"}},
		{"sparse bad value", head + "{1 x}\n", []string{"bad.arff:5", "attribute 2 (b b)", `"x"`}},
		{"sparse unterminated", head + "{1 1\n", []string{"bad.arff:5", "does not end with '}'"}},
		{"sparse weight", head + "{1 1}, {2}\n", []string{"bad.arff:5", "instance weights"}},
		{"sparse trailing text", head + "{1 1} x\n", []string{"bad.arff:5", "unexpected text \" x\" after the sparse row"}},
		{"dense weight", head + "1,2,{3}\n", []string{"bad.arff:5", "instance weights"}},
		{"text after @data", "@relation r\n@attribute a numeric\n@data 1\n", []string{"bad.arff:3", "after @data"}},
		{"relation without name", "@relation\n", []string{"bad.arff:1", "without a name"}},
		{"relation extra text", "@relation a b\n", []string{"bad.arff:1", "unexpected text"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseARFF(strings.NewReader(tc.src), "bad.arff")
			if err == nil {
				t.Fatalf("no error; got %+v", a)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestReadARFFFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "small.arff")
	if err := os.WriteFile(p, []byte("@relation r\n@attribute a numeric\n@data\n1\nx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadARFF(p); err == nil || !strings.Contains(err.Error(), p+":5") {
		t.Fatalf("error %v, want one naming %s:5", err, p)
	}
	if _, err := ReadARFF(filepath.Join(dir, "absent.arff")); err == nil || !strings.Contains(err.Error(), "absent.arff") {
		t.Fatalf("error %v, want one naming absent.arff", err)
	}
}

func TestMulanSplitTargets(t *testing.T) {
	src := "@relation m\n@attribute f1 numeric\n@attribute f2 {lo,hi}\n@attribute t1 numeric\n@attribute t2 numeric\n@data\n" +
		"1,lo,10,20\n?,hi,?,21\n3,?,12,?\n"
	a, err := ParseARFF(strings.NewReader(src), "m.arff")
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.SplitTargets("m.arff", 2)
	if err != nil {
		t.Fatal(err)
	}
	// f1 mean of present values (1, 3) = 2; f2 mean of (0, 1) = 0.5.
	wantX := []float32{1, 0, 2, 1, 3, 0.5}
	wantY := []float32{10, 20, 0, 21, 12, 0}
	wantM := []float32{1, 1, 0, 1, 1, 0}
	for name, c := range map[string]struct{ got, want []float32 }{"X": {m.X.F32(), wantX}, "Y": {m.Y.F32(), wantY}, "Mask": {m.Mask.F32(), wantM}} {
		if len(c.got) != len(c.want) {
			t.Fatalf("%s has %d values, want %d", name, len(c.got), len(c.want))
		}
		for i := range c.got {
			if c.got[i] != c.want[i] {
				t.Errorf("%s = %v, want %v", name, c.got, c.want)
				break
			}
		}
	}
	if strings.Join(m.Features, ",") != "f1,f2" || strings.Join(m.Targets, ",") != "t1,t2" {
		t.Errorf("features %v targets %v", m.Features, m.Targets)
	}
	if s := m.X.Shape(); s[0] != 3 || s[1] != 2 {
		t.Errorf("X shape %v", s)
	}

	bad := []struct {
		name    string
		src     string
		targets int
		want    string
	}{
		{"zero targets", src, 0, "0 targets requested, want 1..3"},
		{"all targets", src, 4, "4 targets requested"},
		{"nominal target", src, 3, `target attribute "f2" is nominal`},
		{"no rows", "@relation r\n@attribute a numeric\n@attribute b numeric\n@data\n", 1, "no data rows"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseARFF(strings.NewReader(tc.src), "m.arff")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.SplitTargets("m.arff", tc.targets); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "m.arff") {
				t.Fatalf("error %v, want one naming m.arff and containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadMulanErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mystery.arff")
	if err := os.WriteFile(p, []byte("@relation r\n@attribute a numeric\n@attribute b numeric\n@data\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMulan(p, 0); err == nil || !strings.Contains(err.Error(), "not in MulanTargets") {
		t.Fatalf("error %v, want MulanTargets lookup failure", err)
	}
	m, err := LoadMulan(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.X.Shape()[1] != 1 || m.Y.Shape()[1] != 1 {
		t.Fatalf("shapes %v %v", m.X.Shape(), m.Y.Shape())
	}
	if _, err := LoadMulan(filepath.Join(dir, "enb.arff"), 0); err == nil || !strings.Contains(err.Error(), "enb.arff") {
		t.Fatalf("error %v, want missing-file error naming enb.arff", err)
	}
}

func TestLoadMulanReal(t *testing.T) {
	dir := filepath.Dir(sharedDataPath(t, "mtr-mulan/enb.arff"))
	tests := []struct {
		name        string
		n, f, tgt   int
		firstTarget string
		lastTarget  string
		anyMissingX bool
	}{
		{"andro", 49, 30, 6, "Target", "Target_6", false},
		{"atp1d", 337, 411, 6, "LBL+ALLminpA+fut_001", "LBL+aUAminpA+fut_001", false},
		{"atp7d", 296, 411, 6, "", "", false},
		{"edm", 154, 16, 2, "", "", false},
		{"enb", 768, 8, 2, "Y1", "Y2", false},
		{"jura", 359, 15, 3, "Cd", "Cu", false},
		{"oes10", 403, 298, 16, "", "", false},
		{"oes97", 334, 263, 16, "", "", false},
		{"osales", 639, 401, 12, "Outcome_M1", "Outcome_M12", true},
		{"scpf", 1137, 23, 3, "num_views", "num_comments", true},
		{"sf1", 323, 10, 3, "c-class", "x-class", false},
		{"sf2", 1066, 10, 3, "c-class", "x-class", false},
		{"slump", 103, 7, 3, "SLUMP_cm", "Compressive_Strength_Mpa", false},
		{"wq", 1060, 16, 14, "25400", "37880", false},
	}
	if len(tests) != len(MulanTargets) {
		t.Fatalf("%d test cases for %d MulanTargets entries", len(tests), len(MulanTargets))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".arff")
			if MulanTargets[tc.name] != tc.tgt {
				t.Fatalf("MulanTargets[%q] = %d, want %d", tc.name, MulanTargets[tc.name], tc.tgt)
			}
			a, err := ReadARFF(p)
			if err != nil {
				t.Fatal(err)
			}
			checkARFFInvariants(t, a)
			missing := 0
			for _, r := range a.Missing {
				for _, m := range r {
					if m {
						missing++
					}
				}
			}
			if (missing > 0) != tc.anyMissingX {
				t.Errorf("%d missing values, want some: %v", missing, tc.anyMissingX)
			}
			m, err := a.SplitTargets(p, 0+tc.tgt)
			if err != nil {
				t.Fatal(err)
			}
			if s := m.X.Shape(); len(s) != 2 || s[0] != tc.n || s[1] != tc.f {
				t.Errorf("X shape %v, want [%d %d]", s, tc.n, tc.f)
			}
			if s := m.Y.Shape(); len(s) != 2 || s[0] != tc.n || s[1] != tc.tgt {
				t.Errorf("Y shape %v, want [%d %d]", s, tc.n, tc.tgt)
			}
			if s := m.Mask.Shape(); len(s) != 2 || s[0] != tc.n || s[1] != tc.tgt {
				t.Errorf("Mask shape %v, want [%d %d]", s, tc.n, tc.tgt)
			}
			if len(m.Features) != tc.f || len(m.Targets) != tc.tgt {
				t.Errorf("%d feature and %d target names", len(m.Features), len(m.Targets))
			}
			if tc.firstTarget != "" && (m.Targets[0] != tc.firstTarget || m.Targets[tc.tgt-1] != tc.lastTarget) {
				t.Errorf("targets %s..%s, want %s..%s", m.Targets[0], m.Targets[tc.tgt-1], tc.firstTarget, tc.lastTarget)
			}
			for i, v := range m.X.F32() {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("X value %d is %v", i, v)
				}
			}
			// No target is missing in any of the 14 files.
			for i, v := range m.Mask.F32() {
				if v != 1 {
					t.Fatalf("mask value %d is %v", i, v)
				}
			}
		})
	}
	// LoadMulan with targets = 0 uses MulanTargets.
	m, err := LoadMulan(filepath.Join(dir, "sf1.arff"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Y.Shape(); s[0] != 323 || s[1] != 3 {
		t.Fatalf("sf1 Y shape %v", s)
	}
	// sf1's first attribute is nominal {A,B,C,D,E,F,H}; the first row is C.
	if v := m.X.At(0, 0); v != 2 {
		t.Fatalf("sf1 row 0 mod_zurich_class index %v, want 2 (C)", v)
	}
}

func FuzzReadARFF(f *testing.F) {
	seeds := []string{
		"@relation r\n@attribute a numeric\n@attribute b {x,y}\n@data\n1,x\n?,y\n{0 2}\n{1 y}\n",
		"% c\n@RELATION 'q r'\n@ATTRIBUTE \"a b\" REAL\n@DATA\n1 % c\n",
		"@relation r\n@attribute 'a\\'b' integer\n@attribute c {'p q',r}\n@data\n3,'p q'\n",
		"@relation r\n@attribute a string\n@data\n",
		"@relation r\n@attribute a numeric\n@data\n{5 1}\n",
		"@relation r\n@attribute a numeric\n@data\n1,2\n",
		"@relation r\n@attribute c {a,b\n",
		"@relation r\n@attribute a numeric\n@data\n'1\n",
		"@data\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		a, err := ParseARFF(strings.NewReader(src), "fuzz.arff")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: fuzz.arff") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkARFFInvariants(t, a)
		if len(a.Rows) > 0 && len(a.Attributes) > 1 {
			if _, err := a.SplitTargets("fuzz.arff", 1); err != nil && !strings.Contains(err.Error(), "nominal") {
				t.Fatalf("SplitTargets: %v", err)
			}
		}
	})
}
