package mt

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Reserved ids of every Vocab.
const (
	PadID = 0 // padding
	BOSID = 1 // beginning of sequence
	EOSID = 2 // end of sequence
	// UnkID exists for compatibility; byte fallback means Encode never
	// produces it.
	UnkID = 3
	// byteBase is the id of the byte token <0x00>; bytes 0..255 follow.
	byteBase = 4
	// firstPieceID is the first character piece.
	firstPieceID = byteBase + 256
)

// MaxPieceBytes bounds the length of one piece (a merge may not make a
// longer one), which keeps a hostile vocabulary from doubling its pieces
// into gigabytes.
const MaxPieceBytes = 1024

// WordBoundary is the SentencePiece-style marker that stands for a space
// (U+2581, "▁"). A literal U+2581 in the text is encoded with byte
// tokens, so decoding gives it back unchanged.
const WordBoundary = "\u2581"

// VocabVersion is the serialisation version Marshal writes.
const VocabVersion = 1

var specialNames = [4]string{"<pad>", "<s>", "</s>", "<unk>"}

// Vocab is a subword vocabulary: byte-pair encoding (Sennrich et al.
// 2016) over NFC-normalised text with a word-boundary marker and byte
// fallback. Ids: 0..3 the reserved tokens, 4..259 the bytes <0x00>..<0xFF>,
// then the base characters, then one piece per merge in merge order, then
// the language tags (<2de>, ...). A Vocab is safe for concurrent use.
type Vocab struct {
	chars  []rune   // base characters; id firstPieceID + i
	merges [][2]int // merge r joins merges[r][0] and [1] into id mergeBase()+r
	langs  []string // language tags, ids after the merges
	pieces []string // surface of every piece id (specials and bytes: their names)
	charID map[rune]int
	rank   map[uint64]int // pair -> merge rank
	langID map[string]int

	mu    sync.RWMutex
	cache map[string][]int // word -> ids
}

func pairKey(a, b int) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func (v *Vocab) mergeBase() int { return firstPieceID + len(v.chars) }

// Size is the number of ids (reserved, bytes, pieces and language tags).
func (v *Vocab) Size() int { return v.mergeBase() + len(v.merges) + len(v.langs) }

// NumMerges is the number of BPE merges.
func (v *Vocab) NumMerges() int { return len(v.merges) }

// Piece is the surface form of an id: the text of a piece (with ▁ for a
// space), "<0xAB>" for a byte, or the name of a reserved token or tag.
func (v *Vocab) Piece(id int) string {
	if id < 0 || id >= len(v.pieces) {
		return ""
	}
	return v.pieces[id]
}

// newVocab builds the lookup tables; it validates as it goes.
func newVocab(chars []rune, merges [][2]int, langs []string) (*Vocab, error) {
	v := &Vocab{chars: chars, merges: merges, charID: map[rune]int{}, rank: map[uint64]int{}, langID: map[string]int{}, cache: map[string][]int{}}
	v.pieces = make([]string, 0, firstPieceID+len(chars)+len(merges)+len(langs))
	v.pieces = append(v.pieces, specialNames[:]...)
	for b := 0; b < 256; b++ {
		v.pieces = append(v.pieces, fmt.Sprintf("<0x%02X>", b))
	}
	hasBoundary := false
	for i, r := range chars {
		if !utf8.ValidRune(r) {
			return nil, fmt.Errorf("mt: vocabulary character %d is not a valid rune (%d)", i, r)
		}
		if _, dup := v.charID[r]; dup {
			return nil, fmt.Errorf("mt: vocabulary character %q listed twice", r)
		}
		v.charID[r] = firstPieceID + i
		if string(r) == WordBoundary {
			hasBoundary = true
		}
		v.pieces = append(v.pieces, string(r))
	}
	if !hasBoundary {
		return nil, fmt.Errorf("mt: vocabulary lacks the word-boundary character %s", WordBoundary)
	}
	for r, m := range merges {
		id := v.mergeBase() + r
		for _, p := range m {
			if p < firstPieceID || p >= id {
				return nil, fmt.Errorf("mt: merge %d joins id %d, want a piece id in [%d, %d)", r, p, firstPieceID, id)
			}
		}
		k := pairKey(m[0], m[1])
		if _, dup := v.rank[k]; dup {
			return nil, fmt.Errorf("mt: merge %d repeats the pair (%d, %d)", r, m[0], m[1])
		}
		if l := len(v.pieces[m[0]]) + len(v.pieces[m[1]]); l > MaxPieceBytes {
			return nil, fmt.Errorf("mt: merge %d makes a piece of %d bytes, the limit is %d", r, l, MaxPieceBytes)
		}
		v.rank[k] = r
		v.pieces = append(v.pieces, v.pieces[m[0]]+v.pieces[m[1]])
	}
	for _, l := range langs {
		if err := v.addLang(l); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (v *Vocab) addLang(lang string) error {
	if lang == "" || strings.ContainsAny(lang, "<> \t\n") || !utf8.ValidString(lang) {
		return fmt.Errorf("mt: bad language code %q", lang)
	}
	if _, dup := v.langID[lang]; dup {
		return fmt.Errorf("mt: language tag <2%s> exists", lang)
	}
	v.langID[lang] = v.Size()
	v.langs = append(v.langs, lang)
	v.pieces = append(v.pieces, "<2"+lang+">")
	return nil
}

// AddLanguageTags appends the tags <2xx> for the given languages (those
// present are kept) and returns their ids. Not safe concurrently with
// other calls.
func (v *Vocab) AddLanguageTags(langs ...string) ([]int, error) {
	ids := make([]int, len(langs))
	for i, l := range langs {
		if id, ok := v.langID[l]; ok {
			ids[i] = id
			continue
		}
		if err := v.addLang(l); err != nil {
			return nil, err
		}
		ids[i] = v.langID[l]
	}
	return ids, nil
}

// LanguageID is the id of the tag <2lang>.
func (v *Vocab) LanguageID(lang string) (int, bool) {
	id, ok := v.langID[lang]
	return id, ok
}

// Languages lists the language tags in id order.
func (v *Vocab) Languages() []string { return append([]string(nil), v.langs...) }

// IsSpecial reports whether id is a reserved token or a language tag
// (Decode skips those).
func (v *Vocab) IsSpecial(id int) bool {
	return (id >= 0 && id < byteBase) || id >= v.mergeBase()+len(v.merges)
}

// Normalize is the normalisation applied before encoding: Unicode NFC.
func Normalize(s string) string { return norm.NFC.String(s) }

// splitWords cuts NFC text with a leading dummy space into words, each
// starting at a space (kept), as SentencePiece does.
func splitWords(s string) []string {
	var out []string
	start := 0
	for i := 1; i < len(s); i++ {
		if s[i] == ' ' {
			out = append(out, s[start:i])
			start = i
		}
	}
	return append(out, s[start:])
}

// Encode normalises s (NFC), marks word boundaries and returns its ids;
// characters outside the vocabulary (and invalid UTF-8) become byte
// tokens, so nothing is ever unknown. No BOS/EOS is added.
func (v *Vocab) Encode(s string) []int {
	return v.EncodeAppend(nil, s)
}

// EncodeAppend appends the ids of s to dst.
func (v *Vocab) EncodeAppend(dst []int, s string) []int {
	s = " " + Normalize(s)
	for _, w := range splitWords(s) {
		dst = append(dst, v.encodeWord(w)...)
	}
	return dst
}

const maxCache = 1 << 18

func (v *Vocab) encodeWord(w string) []int {
	v.mu.RLock()
	ids, ok := v.cache[w]
	v.mu.RUnlock()
	if ok {
		return ids
	}
	ids = v.bpe(v.symbols(nil, w))
	v.mu.Lock()
	if len(v.cache) >= maxCache {
		clear(v.cache)
	}
	v.cache[w] = ids
	v.mu.Unlock()
	return ids
}

// symbols maps a word to its base ids: a space is the boundary piece,
// known characters their piece, everything else its UTF-8 bytes.
func (v *Vocab) symbols(dst []int, w string) []int {
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRuneInString(w[i:])
		switch {
		case r == ' ':
			dst = append(dst, v.charID['\u2581'])
		case r == '\u2581' || (r == utf8.RuneError && size == 1):
			for j := 0; j < size; j++ {
				dst = append(dst, byteBase+int(w[i+j]))
			}
		default:
			if id, ok := v.charID[r]; ok {
				dst = append(dst, id)
			} else {
				for j := 0; j < size; j++ {
					dst = append(dst, byteBase+int(w[i+j]))
				}
			}
		}
		i += size
	}
	return dst
}

// bpe applies the merges to a word: repeatedly the adjacent pair with the
// lowest merge rank (the leftmost on ties), as the merges were learned.
func (v *Vocab) bpe(sym []int) []int {
	for len(sym) > 1 {
		best, at := -1, -1
		for i := 0; i+1 < len(sym); i++ {
			if r, ok := v.rank[pairKey(sym[i], sym[i+1])]; ok && (best < 0 || r < best) {
				best, at = r, i
			}
		}
		if best < 0 {
			break
		}
		sym[at] = v.mergeBase() + best
		sym = append(sym[:at+1], sym[at+2:]...)
	}
	return sym
}

// Decode turns ids back into text: pieces with ▁ as a space, byte tokens
// as raw bytes, reserved tokens and language tags skipped, and the leading
// dummy space removed. Decode(Encode(s)) == NFC(s) for every s. Ids out
// of range are an error.
func (v *Vocab) Decode(ids []int) (string, error) {
	var b strings.Builder
	for _, id := range ids {
		switch {
		case id < 0 || id >= v.Size():
			return "", fmt.Errorf("mt: token id %d out of range [0, %d)", id, v.Size())
		case v.IsSpecial(id):
		case id < firstPieceID:
			b.WriteByte(byte(id - byteBase))
		default:
			b.WriteString(strings.ReplaceAll(v.pieces[id], WordBoundary, " "))
		}
	}
	s := b.String()
	return strings.TrimPrefix(s, " "), nil
}

type vocabJSON struct {
	Version       int      `json:"version"`
	Model         string   `json:"model"`
	Normalization string   `json:"normalization"`
	Chars         string   `json:"chars"`
	Merges        [][2]int `json:"merges"`
	Languages     []string `json:"languages"`
}

// Marshal serialises the vocabulary (JSON with a version field), e.g. for
// a model file's metadata.
func (v *Vocab) Marshal() ([]byte, error) {
	return json.Marshal(vocabJSON{Version: VocabVersion, Model: "bpe", Normalization: "nfc", Chars: string(v.chars), Merges: v.merges, Languages: v.langs})
}

// UnmarshalVocab reads what Marshal wrote, validating every field.
func UnmarshalVocab(b []byte) (*Vocab, error) {
	var j vocabJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("mt: vocabulary: %w", err)
	}
	if j.Version != VocabVersion {
		return nil, fmt.Errorf("mt: vocabulary version %d, this build reads version %d", j.Version, VocabVersion)
	}
	if j.Model != "bpe" || j.Normalization != "nfc" {
		return nil, fmt.Errorf("mt: vocabulary model %q normalization %q, want bpe and nfc", j.Model, j.Normalization)
	}
	if !utf8.ValidString(j.Chars) {
		return nil, errors.New("mt: vocabulary characters are not valid UTF-8")
	}
	return newVocab([]rune(j.Chars), j.Merges, j.Languages)
}
