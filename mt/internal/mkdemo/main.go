// Command mkdemo selects the demo corpus embedded in package mt
// (mt/demodata) from the lo-mt corpus:
//
//	go run ./mt/internal/mkdemo -lomt ../shared/data/lo-mt -out mt/demodata
//
// The rule (also in mt/demodata/README.md):
//
//   - A pair is short when its English has 3 to 8 words (lo-mt's word
//     count: lowercased, every run of non-alphanumeric characters one
//     space, split on spaces) and at most 60 characters, and its
//     translation at most 90 characters.
//   - Ids are ranked by sha256("metalearn-demo-v1\x00" + id) (hex,
//     ascending): a fixed pseudo-random order.
//   - train/en-{de,fr,es,it,nl,pt}: the first 1,000 ids of lo-mt's train
//     split whose pairs are short in all six languages (multi-way
//     parallel: the same English in every file).
//   - train/en-gl: the first 300 ids of the train split whose en-gl pair
//     is short, other than those 1,000.
//   - dev/en-{de,fr,es,it,nl,pt,gl}: the first 200 ids of lo-mt's dev
//     split whose pairs are short in all seven languages.
//
// Nothing comes from lo-mt's test split. Files keep lo-mt's layout
// (id<TAB>en<TAB>xx, sorted by id), gzip-compressed; SHA256SUMS lists the
// sha256 of each file's uncompressed text.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/metalearn/metalearn/data"
)

const (
	rankSalt     = "metalearn-demo-v1\x00"
	nMulti       = 1000
	nNew         = 300
	nDev         = 200
	minWords     = 3
	maxWords     = 8
	maxEnChars   = 60
	maxTgtChars  = 90
	newLanguage  = "gl"
	splitTrain   = "train"
	splitHeldOut = "dev"
)

// Pretrain are the languages of the multilingual part.
var Pretrain = []string{"de", "fr", "es", "it", "nl", "pt"}

func main() {
	lomt := flag.String("lomt", filepath.Join("..", "shared", "data", "lo-mt"), "lo-mt corpus folder")
	out := flag.String("out", filepath.Join("mt", "demodata"), "output folder")
	flag.Parse()
	files, err := Build(*lomt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdemo:", err)
		os.Exit(1)
	}
	if err := Write(*out, files); err != nil {
		fmt.Fprintln(os.Stderr, "mkdemo:", err)
		os.Exit(1)
	}
}

// words counts words as lo-mt does.
func words(s string) int {
	return len(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
}

func short(s data.Segment) bool {
	w := words(s.Source)
	return w >= minWords && w <= maxWords && utf8.RuneCountInString(s.Source) <= maxEnChars && utf8.RuneCountInString(s.Target) <= maxTgtChars
}

func rank(id string) string {
	h := sha256.Sum256([]byte(rankSalt + id))
	return hex.EncodeToString(h[:])
}

// load reads split/lang keeping the short pairs, by id.
func load(dir, split, lang string) (map[string]data.Segment, error) {
	segs, err := data.LoadLoMT(dir, split, lang)
	if err != nil {
		return nil, err
	}
	m := map[string]data.Segment{}
	for _, s := range segs {
		if short(s) {
			m[s.ID] = s
		}
	}
	return m, nil
}

// pick returns the first n ids (by rank) present in every map and not
// in exclude, sorted by id.
func pick(n int, exclude map[string]bool, ms ...map[string]data.Segment) []string {
	var ids []string
	for id := range ms[0] {
		ok := !exclude[id]
		for _, m := range ms[1:] {
			_, has := m[id]
			ok = ok && has
		}
		if ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return rank(ids[i]) < rank(ids[j]) })
	if len(ids) > n {
		ids = ids[:n]
	}
	slices.Sort(ids)
	return ids
}

func tsv(ids []string, m map[string]data.Segment) []byte {
	var b bytes.Buffer
	for _, id := range ids {
		s := m[id]
		fmt.Fprintf(&b, "%s\t%s\t%s\n", id, s.Source, s.Target)
	}
	return b.Bytes()
}

// Build selects the demo corpus: file name ("train/en-de.tsv") -> the
// uncompressed text.
func Build(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	byLang := map[string]map[string]data.Segment{}
	var all []map[string]data.Segment
	for _, l := range Pretrain {
		m, err := load(dir, splitTrain, l)
		if err != nil {
			return nil, err
		}
		byLang[l] = m
		all = append(all, m)
	}
	multi := pick(nMulti, nil, all...)
	if len(multi) < nMulti {
		return nil, fmt.Errorf("only %d multi-way short train ids", len(multi))
	}
	for _, l := range Pretrain {
		files["train/en-"+l+".tsv"] = tsv(multi, byLang[l])
	}
	gl, err := load(dir, splitTrain, newLanguage)
	if err != nil {
		return nil, err
	}
	exclude := map[string]bool{}
	for _, id := range multi {
		exclude[id] = true
	}
	newIDs := pick(nNew, exclude, gl)
	files["train/en-"+newLanguage+".tsv"] = tsv(newIDs, gl)

	var dev []map[string]data.Segment
	devLangs := append(slices.Clone(Pretrain), newLanguage)
	for _, l := range devLangs {
		m, err := load(dir, splitHeldOut, l)
		if err != nil {
			return nil, err
		}
		dev = append(dev, m)
	}
	devIDs := pick(nDev, nil, dev...)
	for i, l := range devLangs {
		files["dev/en-"+l+".tsv"] = tsv(devIDs, dev[i])
	}
	return files, nil
}

// Write writes each file gzip-compressed (name.gz, no timestamp) and
// SHA256SUMS of the uncompressed texts.
func Write(out string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var sums bytes.Buffer
	for _, n := range names {
		p := filepath.Join(out, filepath.FromSlash(n)+".gz")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(files[n])
		if err := zw.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			return err
		}
		h := sha256.Sum256(files[n])
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(h[:]), n)
	}
	return os.WriteFile(filepath.Join(out, "SHA256SUMS"), sums.Bytes(), 0o644)
}
