package mt

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var toyCorpus = map[string][]string{
	"en": {"Open the file", "Save the file as", "Close the window", "the the the", "Insert a new sheet"},
	"de": {"Datei öffnen", "Datei speichern unter", "Fenster schließen", "Neues Tabellenblatt einfügen"},
	"fr": {"Ouvrir le fichier", "Enregistrer le fichier sous", "Fermer la fenêtre"},
}

func trainToy(t testing.TB, merges int) *Vocab {
	t.Helper()
	v, err := TrainBPE(toyCorpus, BPEConfig{Merges: merges})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func roundTrip(t testing.TB, v *Vocab, s string) {
	t.Helper()
	ids := v.Encode(s)
	for _, id := range ids {
		if id == UnkID || id < 0 || id >= v.Size() {
			t.Fatalf("%q: id %d", s, id)
		}
	}
	got, err := v.Decode(ids)
	if err != nil {
		t.Fatal(err)
	}
	if want := norm.NFC.String(s); got != want {
		t.Fatalf("round trip %q -> %v -> %q, want %q", s, ids, got, want)
	}
}

func TestBPERoundTrip(t *testing.T) {
	v := trainToy(t, 40)
	if v.NumMerges() != 40 {
		t.Fatalf("%d merges, want 40", v.NumMerges())
	}
	cases := []string{
		"", " ", "  ", "Open the file", " leading", "trailing ", "two  spaces", "tab\there", "new\nline",
		"Dateiöffnen", "e\u0301 decomposed", "literal \u2581 marker", "\u2581", "日本語のテキスト", "emoji 😀!",
		"\xff\xfe invalid", "ends in invalid \xe2\x96",
	}
	for _, s := range cases {
		roundTrip(t, v, s)
	}
	// Merged pieces are used: "the" is frequent.
	if ids := v.Encode("the the"); len(ids) >= len("the the") {
		t.Fatalf("no merges applied: %v", ids)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		n := rng.IntN(12)
		var b strings.Builder
		for j := 0; j < n; j++ {
			switch rng.IntN(4) {
			case 0:
				b.WriteRune(rune(rng.IntN(0x250)))
			case 1:
				b.WriteRune(rune(rng.IntN(0x10FFFF)))
			case 2:
				b.WriteString(" ")
			default:
				b.WriteByte(byte(rng.IntN(256)))
			}
		}
		roundTrip(t, v, b.String())
	}
}

func TestBPEDeterministicAndMarshal(t *testing.T) {
	a, b := trainToy(t, 30), trainToy(t, 30)
	ma, _ := a.Marshal()
	mb, _ := b.Marshal()
	if !bytes.Equal(ma, mb) {
		t.Fatal("training is not deterministic")
	}
	if _, err := a.AddLanguageTags("de", "fr"); err != nil {
		t.Fatal(err)
	}
	ma, _ = a.Marshal()
	c, err := UnmarshalVocab(ma)
	if err != nil {
		t.Fatal(err)
	}
	if c.Size() != a.Size() {
		t.Fatalf("size %d after unmarshal, want %d", c.Size(), a.Size())
	}
	id, ok := c.LanguageID("fr")
	if !ok || c.Piece(id) != "<2fr>" || !c.IsSpecial(id) {
		t.Fatalf("language tag: %d %v %q", id, ok, c.Piece(id))
	}
	for _, s := range []string{"Open the file", "Fenster schließen"} {
		x, y := a.Encode(s), c.Encode(s)
		if len(x) != len(y) {
			t.Fatalf("encodings differ after unmarshal: %v vs %v", x, y)
		}
	}
	// With tags and BOS/EOS in the ids, Decode skips them.
	ids := append([]int{id, BOSID}, a.Encode("Open")...)
	if s, _ := a.Decode(append(ids, EOSID, PadID)); s != "Open" {
		t.Fatalf("decode with specials %q", s)
	}
	if _, err := a.Decode([]int{a.Size()}); err == nil {
		t.Fatal("out-of-range id decoded")
	}
	bad := []string{
		``, `{}`, `{"version":2,"model":"bpe","normalization":"nfc","chars":"▁"}`,
		`{"version":1,"model":"bpe","normalization":"nfc","chars":"ab"}`,
		`{"version":1,"model":"bpe","normalization":"nfc","chars":"▁aa"}`,
		`{"version":1,"model":"bpe","normalization":"nfc","chars":"▁a","merges":[[260,262]]}`,
		`{"version":1,"model":"bpe","normalization":"nfc","chars":"▁a","merges":[[4,261]]}`,
		`{"version":1,"model":"bpe","normalization":"nfc","chars":"▁a","merges":[[260,261],[260,261]]}`,
		`{"version":1,"model":"bpe","normalization":"nfc","chars":"▁a","languages":["de","de"]}`,
		`{"version":1,"model":"bpe","normalization":"nfc","chars":"▁a","languages":["<x>"]}`,
		doublingVocab(12),
	}
	for _, s := range bad {
		if _, err := UnmarshalVocab([]byte(s)); err == nil {
			t.Errorf("UnmarshalVocab(%s) accepted", s)
		}
	}
}

// doublingVocab's merges each join the previous piece with itself: 2^n bytes.
func doublingVocab(n int) string {
	m := []string{"[261,261]"}
	for i := 1; i < n; i++ {
		m = append(m, fmt.Sprintf("[%d,%d]", 261+i, 261+i))
	}
	return `{"version":1,"model":"bpe","normalization":"nfc","chars":"▁a","merges":[` + strings.Join(m, ",") + `]}`
}

// A word longer than MaxPieceBytes is never merged whole.
func TestBPEMaxPiece(t *testing.T) {
	long := strings.Repeat("ab", MaxPieceBytes)
	v, err := TrainBPE(map[string][]string{"x": {long, long}}, BPEConfig{Merges: 40})
	if err != nil {
		t.Fatal(err)
	}
	for id := 0; id < v.Size(); id++ {
		if len(v.Piece(id)) > MaxPieceBytes {
			t.Fatalf("piece %d has %d bytes", id, len(v.Piece(id)))
		}
	}
	roundTrip(t, v, long)
	if _, err := UnmarshalVocab([]byte(doublingVocab(9))); err != nil {
		t.Fatalf("512-byte pieces refused: %v", err)
	}
}

func TestBPETemperature(t *testing.T) {
	// A big language and a tiny one with its own words: with T = 1 the
	// tiny language's word gets no merge within 10 merges; with a
	// high temperature it does.
	big := make([]string, 400)
	for i := range big {
		big[i] = "alpha beta gamma delta"
	}
	corpus := map[string][]string{"big": big, "tiny": {"zyxw zyxw"}}
	has := func(T float64) bool {
		v, err := TrainBPE(corpus, BPEConfig{Merges: 10, Temperature: T})
		if err != nil {
			t.Fatal(err)
		}
		return len(v.Encode("zyxw")) < 5
	}
	if has(1) {
		t.Fatal("T=1: the tiny language got merges within 10")
	}
	if !has(100) {
		t.Fatal("T=100: the tiny language got no merges")
	}
}

func FuzzUnmarshalVocab(f *testing.F) {
	v, _ := TrainBPE(toyCorpus, BPEConfig{Merges: 20})
	v.AddLanguageTags("de")
	b, _ := v.Marshal()
	f.Add(b)
	f.Add([]byte(`{"version":1,"model":"bpe","normalization":"nfc","chars":"▁a","merges":[[260,261]]}`))
	f.Add([]byte(`{"version":1,"model":"bpe","normalization":"nfc","chars":"▁a","merges":[[4,261]]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := UnmarshalVocab(b)
		if err != nil {
			return
		}
		for _, s := range []string{"Open the file", "x\u2581y \xff"} {
			roundTrip(t, v, s)
		}
	})
}

func FuzzBPERoundTrip(f *testing.F) {
	v, _ := TrainBPE(toyCorpus, BPEConfig{Merges: 40})
	for _, s := range []string{"Open the file", "  ", "\u2581x", "e\u0301", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		roundTrip(t, v, s)
		if utf8.ValidString(s) {
			for _, id := range v.Encode(s) {
				if v.IsSpecial(id) {
					t.Fatalf("special id %d in an encoding", id)
				}
			}
		}
	})
}
