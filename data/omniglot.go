package data

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/metalearn/metalearn/tensor"
)

// Omniglot pixel convention: every loader here returns float32 images
// [N, 1, size, size] with ink = 1.0 and background = 0.0 (the original
// files, and torchvision's PIL "L" images, have white background = 1 and
// black ink = 0; MAML-style pipelines invert them). Greyscale sources map
// linearly: ink = 1 - grey/255. Resizing uses area (box) averaging, so
// resized pixels take fractional values in [0, 1].

// OmniglotSize is the side of the original Omniglot images.
const OmniglotSize = 105

// MAMLTrainCharacters is the number of training characters in the MAML
// Omniglot split (the other 423 of 1,623 are for testing).
const MAMLTrainCharacters = 1200

// LoadOmniglotNPZ loads an Omniglot .npz as repacked in ../shared/data:
// images.npy, bool or uint8 of shape (C, D, H, W) (C characters, D drawers;
// stored byte 0 = ink, non-zero = background; uint8 data are read as grey
// levels) and optionally labels.npy, integers (C, D), constant per
// character. Images are resized to size x size (28 is the usual choice) by
// area averaging.
//
// When a file alphabets.tsv sits next to the npz and the npz name is
// images_<set>.npz with <set> listed in it, class c is named
// "Alphabet/characterNN" for the character with global id
// labels[c][0] + (first id of the set); otherwise it is "class%04d" % c.
func LoadOmniglotNPZ(p string, size int) (*ClassDataset, error) {
	if size <= 0 {
		return nil, fmt.Errorf("data: LoadOmniglotNPZ %s: image size %d must be positive", p, size)
	}
	arrs, err := ReadNPZ(p)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	var names func(c int, label int64) string
	tsv := filepath.Join(filepath.Dir(p), "alphabets.tsv")
	if _, err := os.Stat(tsv); err == nil {
		alpha, err := ReadAlphabets(tsv)
		if err != nil {
			return nil, err
		}
		set := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "images_"), ".npz")
		names = alpha.namer(set)
	}
	ds, err := omniglotFromArrays(arrs["images"], arrs["labels"], size, names)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", p, err)
	}
	return ds, nil
}

// omniglotFromArrays converts the npz arrays to a ClassDataset. names may be
// nil (or return "") for the "class%04d" fallback.
func omniglotFromArrays(images, labels *Array, size int, names func(c int, label int64) string) (*ClassDataset, error) {
	if images == nil {
		return nil, errors.New("no images.npy member")
	}
	if images.DType != "|b1" && images.DType != "|u1" {
		return nil, fmt.Errorf("images.npy has dtype %s, want |b1 or |u1", images.DType)
	}
	if len(images.Shape) != 4 || images.Shape[0] == 0 || images.Shape[1] == 0 || images.Shape[2] == 0 || images.Shape[3] == 0 {
		return nil, fmt.Errorf("images.npy has shape %v, want non-empty (characters, drawers, height, width)", images.Shape)
	}
	nc, nd, h, w := images.Shape[0], images.Shape[1], images.Shape[2], images.Shape[3]
	var lab []int64
	if labels != nil {
		if len(labels.Shape) != 2 || labels.Shape[0] != nc || labels.Shape[1] != nd {
			return nil, fmt.Errorf("labels.npy has shape %v, want [%d %d] to match images.npy %v", labels.Shape, nc, nd, images.Shape)
		}
		lab = make([]int64, labels.Len())
		for i := range lab {
			v := labels.At(i)
			if v != float64(int64(v)) {
				return nil, fmt.Errorf("labels.npy element %d = %v is not an integer", i, v)
			}
			lab[i] = int64(v)
		}
		for c := 0; c < nc; c++ {
			for d := 1; d < nd; d++ {
				if lab[c*nd+d] != lab[c*nd] {
					return nil, fmt.Errorf("labels.npy: character %d has labels %d and %d", c, lab[c*nd], lab[c*nd+d])
				}
			}
		}
	}
	n := nc * nd
	out := make([]float32, n*size*size)
	boolean := images.DType == "|b1"
	parallelRange(n, func(lo, hi int) {
		rs := newResizer(h, w, size, size)
		plane := make([]float64, h*w)
		for i := lo; i < hi; i++ {
			src := images.U8[i*h*w : (i+1)*h*w]
			for k, v := range src {
				switch {
				case boolean && v == 0:
					plane[k] = 1
				case boolean:
					plane[k] = 0
				default:
					plane[k] = 1 - float64(v)/255
				}
			}
			rs.resize(out[i*size*size:(i+1)*size*size], plane)
		}
	})
	ds := &ClassDataset{Images: tensor.FromFloat32(out, n, 1, size, size)}
	for c := 0; c < nc; c++ {
		idx := make([]int, nd)
		for d := range idx {
			idx[d] = c*nd + d
		}
		ds.ByClass = append(ds.ByClass, idx)
		name := ""
		if names != nil {
			label := int64(c)
			if lab != nil {
				label = lab[c*nd]
			}
			name = names(c, label)
		}
		if name == "" {
			name = fmt.Sprintf("class%04d", c)
		}
		ds.ClassNames = append(ds.ClassNames, name)
	}
	return ds, nil
}

// parallelRange calls f on disjoint chunks covering [0, n) from several
// goroutines and waits for them.
func parallelRange(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/64))
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		lo, hi := k*n/workers, (k+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// Alphabet is one row of alphabets.tsv: the characters with global ids
// First..Last (1-based, as in the official file names "0108_01.png") form
// alphabet Name of set Set ("background" or "evaluation").
type Alphabet struct {
	Set         string
	First, Last int
	Name        string
}

// Alphabets is the content of alphabets.tsv.
type Alphabets []Alphabet

// ReadAlphabets reads alphabets.tsv: a header line
// "set first_id last_id alphabet n_chars" and one tab-separated row per
// alphabet, e.g. "background 0001 0026 Arcadian 26".
func ReadAlphabets(p string) (Alphabets, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	var out Alphabets
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		fields := strings.Split(text, "\t")
		if line == 1 && len(fields) > 0 && fields[0] == "set" {
			continue
		}
		if len(fields) != 5 {
			return nil, fmt.Errorf("data: %s line %d: %d tab-separated fields, want 5 (set, first_id, last_id, alphabet, n_chars)", p, line, len(fields))
		}
		first, e1 := strconv.Atoi(fields[1])
		last, e2 := strconv.Atoi(fields[2])
		nch, e3 := strconv.Atoi(fields[4])
		if e1 != nil || e2 != nil || e3 != nil || first < 1 || last < first || nch != last-first+1 || fields[3] == "" {
			return nil, fmt.Errorf("data: %s line %d: bad row %q (want ids first <= last and n_chars = last-first+1)", p, line, text)
		}
		out = append(out, Alphabet{Set: fields[0], First: first, Last: last, Name: fields[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: %s: %w", p, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("data: %s: no alphabets", p)
	}
	return out, nil
}

// CharacterName returns "Alphabet/characterNN" for a global character id
// (1-based), or "" when no alphabet holds it.
func (as Alphabets) CharacterName(id int) string {
	for _, a := range as {
		if id >= a.First && id <= a.Last {
			return fmt.Sprintf("%s/character%02d", a.Name, id-a.First+1)
		}
	}
	return ""
}

// namer returns the naming function for the npz of the given set: label L
// is global id L + (smallest first id of the set). nil if the set is absent.
func (as Alphabets) namer(set string) func(int, int64) string {
	off := -1
	for _, a := range as {
		if a.Set == set && (off < 0 || a.First < off) {
			off = a.First
		}
	}
	if off < 0 {
		return nil
	}
	return func(_ int, label int64) string {
		if label < 0 || label > 1<<30 {
			return ""
		}
		return as.CharacterName(int(label) + off)
	}
}

// LoadOmniglotDir loads Omniglot in the official layout
// root/Alphabet/characterNN/*.png (e.g. an unpacked images_background.zip,
// root being its images_background folder). Classes are named
// "Alphabet/characterNN", in sorted order, images within a class in file
// name order. PNGs may be grey, paletted or colour (transparent pixels count
// as white); dark pixels are ink: ink = 1 - grey/255. Files directly under
// root and names starting with "." are ignored; any other file that is not
// a .png where images are expected is an error.
func LoadOmniglotDir(root string, size int) (*ClassDataset, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("data: LoadOmniglotDir: %s is not a directory", root)
	}
	return loadOmniglotFS(os.DirFS(root), ".", size, root)
}

// LoadOmniglotZip loads one of the official Omniglot zips
// (images_background.zip, images_evaluation.zip,
// images_background_small1.zip, ...) straight from the archive. The zip
// holds either a top-level folder with the alphabets inside (the official
// layout) or the alphabets themselves. See LoadOmniglotDir for the rest.
func LoadOmniglotZip(p string, size int) (*ClassDataset, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("data: zip %s: %w", p, err)
	}
	defer zr.Close()
	return omniglotFromZip(&zr.Reader, p, size)
}

// omniglotFromZip loads Omniglot from an opened zip; p names it in errors.
func omniglotFromZip(zr *zip.Reader, p string, size int) (*ClassDataset, error) {
	if len(zr.File) == 0 {
		return nil, fmt.Errorf("data: zip %s is empty", p)
	}
	root := ""
	for _, f := range zr.File {
		if !strings.HasSuffix(strings.ToLower(f.Name), ".png") {
			continue
		}
		if unsafeZipPath(f.Name) {
			return nil, fmt.Errorf("data: zip %s: member %q has an unsafe path (absolute or with a \"..\" element)", p, f.Name)
		}
		if ignoredPath(f.Name) {
			continue
		}
		parts := strings.Split(f.Name, "/")
		switch len(parts) {
		case 3:
			root = "."
		case 4:
			root = parts[0]
		default:
			return nil, fmt.Errorf("data: zip %s: image %s is not at [top/]Alphabet/characterNN/file.png", p, f.Name)
		}
		break
	}
	if root == "" {
		return nil, fmt.Errorf("data: zip %s: no classes found (no PNG images at [top/]Alphabet/characterNN/*.png)", p)
	}
	return loadOmniglotFS(zr, root, size, p)
}

// unsafeZipPath reports whether a zip member name is absolute or climbs
// out of the archive with "..". Nothing is ever extracted, but such names
// mean a tampered or wrongly made archive.
func unsafeZipPath(name string) bool {
	name = strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(name, "/") || (len(name) > 1 && name[1] == ':') {
		return true
	}
	return slices.Contains(strings.Split(name, "/"), "..")
}

// ignoredPath reports whether a path has a hidden or __MACOSX component.
func ignoredPath(p string) bool {
	for _, c := range strings.Split(p, "/") {
		if strings.HasPrefix(c, ".") && c != "." || c == "__MACOSX" {
			return true
		}
	}
	return false
}

// loadOmniglotFS loads root/Alphabet/characterNN/*.png from fsys; where
// names the directory or zip in errors.
func loadOmniglotFS(fsys fs.FS, root string, size int, where string) (*ClassDataset, error) {
	if size <= 0 {
		return nil, fmt.Errorf("data: Omniglot %s: image size %d must be positive", where, size)
	}
	var (
		names []string
		files []string
		class []int
	)
	alphas, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", where, err)
	}
	for _, a := range alphas {
		if !a.IsDir() || ignoredPath(a.Name()) {
			continue // LICENSE, README, .DS_Store, __MACOSX
		}
		adir := path.Join(root, a.Name())
		chars, err := fs.ReadDir(fsys, adir)
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", where, err)
		}
		for _, c := range chars {
			if ignoredPath(c.Name()) {
				continue
			}
			cdir := path.Join(adir, c.Name())
			if !c.IsDir() {
				return nil, fmt.Errorf("data: %s: unexpected file %s in alphabet folder (want character folders)", where, cdir)
			}
			imgs, err := fs.ReadDir(fsys, cdir)
			if err != nil {
				return nil, fmt.Errorf("data: %s: %w", where, err)
			}
			k := len(names)
			n := 0
			for _, im := range imgs {
				if ignoredPath(im.Name()) {
					continue
				}
				fp := path.Join(cdir, im.Name())
				if im.IsDir() || !strings.HasSuffix(strings.ToLower(im.Name()), ".png") {
					return nil, fmt.Errorf("data: %s: non-image file %s in image folder %s", where, fp, cdir)
				}
				files = append(files, fp)
				class = append(class, k)
				n++
			}
			if n == 0 {
				return nil, fmt.Errorf("data: %s: character folder %s has no images", where, cdir)
			}
			names = append(names, a.Name()+"/"+c.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("data: %s: no classes found (want Alphabet/characterNN/*.png)", where)
	}

	// The first image fixes the size; the rest are decoded in parallel.
	first, err := decodeInk(fsys, files[0])
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", where, err)
	}
	h, w := first.h, first.w
	out := make([]float32, len(files)*size*size)
	errs := make([]error, len(files))
	parallelRange(len(files), func(lo, hi int) {
		rs := newResizer(h, w, size, size)
		for i := lo; i < hi; i++ {
			im := first
			if i > 0 {
				if im, errs[i] = decodeInk(fsys, files[i]); errs[i] != nil {
					continue
				}
			}
			if im.h != h || im.w != w {
				errs[i] = fmt.Errorf("image %s is %dx%d, but %s is %dx%d", files[i], im.w, im.h, files[0], w, h)
				continue
			}
			rs.resize(out[i*size*size:(i+1)*size*size], im.ink)
		}
	})
	for _, e := range errs {
		if e != nil {
			return nil, fmt.Errorf("data: %s: %w", where, e)
		}
	}
	ds := &ClassDataset{Images: tensor.FromFloat32(out, len(files), 1, size, size), ClassNames: names, ByClass: make([][]int, len(names))}
	for i, c := range class {
		ds.ByClass[c] = append(ds.ByClass[c], i)
	}
	return ds, nil
}

// inkImage is a decoded image as ink values in [0, 1], row-major.
type inkImage struct {
	h, w int
	ink  []float64
}

// Limits on one image file of an image folder or zip. image/png allocates
// the whole pixel buffer from the header's width and height before reading
// any pixel data, so a 60-byte file could otherwise demand gigabytes.
const (
	maxImageFileBytes = 64 << 20 // compressed bytes per file
	maxImagePixels    = 1 << 24  // width x height (4096 x 4096)
)

// decodeInk decodes the PNG at name in fsys into ink values.
func decodeInk(fsys fs.FS, name string) (inkImage, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return inkImage{}, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxImageFileBytes+1))
	if err != nil {
		return inkImage{}, fmt.Errorf("reading %s: %w", name, err)
	}
	return decodeInkBytes(raw, name)
}

// decodeInkBytes decodes PNG bytes (from the file called name) into ink
// values, refusing oversized files and images before decoding the pixels.
func decodeInkBytes(raw []byte, name string) (inkImage, error) {
	if len(raw) > maxImageFileBytes {
		return inkImage{}, fmt.Errorf("image %s is larger than %d bytes", name, maxImageFileBytes)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return inkImage{}, fmt.Errorf("decoding %s: %w", name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return inkImage{}, fmt.Errorf("image %s is empty (%dx%d)", name, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return inkImage{}, fmt.Errorf("image %s is %dx%d, more than the %d pixels allowed", name, cfg.Width, cfg.Height, maxImagePixels)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return inkImage{}, fmt.Errorf("decoding %s: %w", name, err)
	}
	b := img.Bounds()
	if b.Empty() {
		return inkImage{}, fmt.Errorf("image %s is empty", name)
	}
	return inkImage{h: b.Dy(), w: b.Dx(), ink: inkValues(img)}, nil
}

// inkValues converts an image to ink = 1 - grey/255, compositing any
// transparency over a white background.
func inkValues(img image.Image) []float64 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float64, w*h)
	if g, ok := img.(*image.Gray); ok {
		for y := 0; y < h; y++ {
			row := g.Pix[y*g.Stride : y*g.Stride+w]
			for x, v := range row {
				out[y*w+x] = 1 - float64(v)/255
			}
		}
		return out
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA() // premultiplied, 16-bit
			bg := 0xffff - a                                   // white showing through
			r, g, bl = r+bg, g+bg, bl+bg
			// ITU-R 601 luma, as image/color.GrayModel.
			lum := (19595*float64(r) + 38470*float64(g) + 7471*float64(bl)) / 65536 / 65535
			out[y*w+x] = 1 - lum
		}
	}
	return out
}

// LoadOmniglotAll loads images_background.npz and images_evaluation.npz
// from dir (with alphabets.tsv for the class names) and returns the 1,623
// characters, background first.
func LoadOmniglotAll(dir string, size int) (*ClassDataset, error) {
	bg, err := LoadOmniglotNPZ(filepath.Join(dir, "images_background.npz"), size)
	if err != nil {
		return nil, err
	}
	ev, err := LoadOmniglotNPZ(filepath.Join(dir, "images_evaluation.npz"), size)
	if err != nil {
		return nil, err
	}
	return ConcatClassDatasets(bg, ev)
}

// VinyalsSplit reads the Vinyals et al. (2016) Omniglot split as
// distributed with prototypical networks: dir holds train.txt, val.txt and
// test.txt, one entry "Alphabet/characterNN/rotDDD" per line (DDD one of
// 000, 090, 180, 270; 1028, 172 and 423 characters, each with all four
// rotations). Blank lines are skipped; a malformed line, a repeated entry
// or an entry in two files is an error naming the file and line.
func VinyalsSplit(dir string) (train, val, test []string, err error) {
	seen := map[string]string{}
	read := func(name string) ([]string, error) {
		p := filepath.Join(dir, name)
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		defer f.Close()
		return readSplitList(f, p, seen)
	}
	if train, err = read("train.txt"); err != nil {
		return nil, nil, nil, err
	}
	if val, err = read("val.txt"); err != nil {
		return nil, nil, nil, err
	}
	if test, err = read("test.txt"); err != nil {
		return nil, nil, nil, err
	}
	return train, val, test, nil
}

// readSplitList reads one split file (p names it in errors); seen maps
// the entries of the files read before to where they were.
func readSplitList(r io.Reader, p string, seen map[string]string) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		e := strings.TrimSpace(sc.Text())
		if e == "" {
			continue
		}
		if _, _, err := parseSplitEntry(e); err != nil {
			return nil, fmt.Errorf("data: %s line %d: %w", p, line, err)
		}
		if prev, dup := seen[e]; dup {
			return nil, fmt.Errorf("data: %s line %d: entry %q already in %s", p, line, e, prev)
		}
		seen[e] = fmt.Sprintf("%s line %d", p, line)
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: %s line %d: %w", p, line+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("data: %s: no entries", p)
	}
	return out, nil
}

// parseSplitEntry splits "Alphabet/characterNN/rotDDD" into the class name
// "Alphabet/characterNN" and the angle.
func parseSplitEntry(e string) (class string, deg int, err error) {
	i := strings.LastIndexByte(e, '/')
	if i <= 0 || strings.Count(e, "/") != 2 || strings.HasPrefix(e, "/") || strings.Contains(e, "//") {
		return "", 0, fmt.Errorf("entry %q is not Alphabet/characterNN/rotDDD", e)
	}
	switch e[i+1:] {
	case "rot000":
		deg = 0
	case "rot090":
		deg = 90
	case "rot180":
		deg = 180
	case "rot270":
		deg = 270
	default:
		return "", 0, fmt.Errorf("entry %q: rotation %q is not rot000, rot090, rot180 or rot270", e, e[i+1:])
	}
	return e[:i], deg, nil
}

// SplitDataset builds the dataset of split entries
// ("Alphabet/characterNN/rotDDD", as from VinyalsSplit) from all, a dataset
// whose classes are named "Alphabet/characterNN" (such as LoadOmniglotAll's):
// class i is entry i's character rotated as it says, named entries[i].
// Image storage is fresh and compact.
func SplitDataset(all *ClassDataset, entries []string) (*ClassDataset, error) {
	if err := all.Validate(); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errors.New("data: SplitDataset: no entries")
	}
	shp := all.Images.Shape()
	byName := make(map[string]int, len(all.ClassNames))
	for i, n := range all.ClassNames {
		byName[n] = i
	}
	var srcIdx, degs []int
	out := &ClassDataset{ByClass: make([][]int, len(entries)), ClassNames: slices.Clone(entries)}
	for k, e := range entries {
		name, deg, err := parseSplitEntry(e)
		if err != nil {
			return nil, fmt.Errorf("data: SplitDataset: %w", err)
		}
		c, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("data: SplitDataset: entry %q: no class %q in the dataset", e, name)
		}
		if deg%180 != 0 && shp[2] != shp[3] {
			return nil, fmt.Errorf("data: SplitDataset: entry %q: rotating %dx%d images by %d degrees needs square images", e, shp[3], shp[2], deg)
		}
		for _, i := range all.ByClass[c] {
			out.ByClass[k] = append(out.ByClass[k], len(srcIdx))
			srcIdx = append(srcIdx, i)
			degs = append(degs, deg)
		}
	}
	out.Images = gatherRotated(all.Images, srcIdx, degs)
	return out, nil
}

// LoadOmniglotVinyals loads the Omniglot npz files in dir (see
// LoadOmniglotAll) and builds the Vinyals train, validation and test
// datasets from dir/splits_vinyals: 4112, 688 and 1692 classes
// (characters x 4 rotations) of 20 images each.
func LoadOmniglotVinyals(dir string, size int) (train, val, test *ClassDataset, err error) {
	tr, va, te, err := VinyalsSplit(filepath.Join(dir, "splits_vinyals"))
	if err != nil {
		return nil, nil, nil, err
	}
	all, err := LoadOmniglotAll(dir, size)
	if err != nil {
		return nil, nil, nil, err
	}
	if train, err = SplitDataset(all, tr); err != nil {
		return nil, nil, nil, err
	}
	if val, err = SplitDataset(all, va); err != nil {
		return nil, nil, nil, err
	}
	if test, err = SplitDataset(all, te); err != nil {
		return nil, nil, nil, err
	}
	return train, val, test, nil
}

// MAMLSplit is the split of the MAML paper's Omniglot experiments: of all
// characters of ds (background and evaluation combined, 1,623), a random
// MAMLTrainCharacters = 1,200 (chosen by seed) train and the rest (423)
// test, each then augmented with 90/180/270-degree rotations as extra
// classes (WithRotations): 4,800 and 1,692 classes. Within each part the
// characters keep their order in ds. The images must be square, and ds must
// have more than 1,200 classes.
func MAMLSplit(ds *ClassDataset, seed uint64) (train, test *ClassDataset, err error) {
	if err := ds.Validate(); err != nil {
		return nil, nil, fmt.Errorf("data: MAMLSplit: %w", err)
	}
	n := ds.NumClasses()
	if n <= MAMLTrainCharacters {
		return nil, nil, fmt.Errorf("data: MAMLSplit: dataset has %d classes, need more than %d", n, MAMLTrainCharacters)
	}
	if shp := ds.Images.Shape(); shp[2] != shp[3] {
		return nil, nil, fmt.Errorf("data: MAMLSplit: rotations need square images, have %dx%d", shp[3], shp[2])
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d616d6c)) // "maml"
	perm := rng.Perm(n)
	tr := slices.Clone(perm[:MAMLTrainCharacters])
	te := slices.Clone(perm[MAMLTrainCharacters:])
	slices.Sort(tr)
	slices.Sort(te)
	return ds.Subset(tr).WithRotations(), ds.Subset(te).WithRotations(), nil
}
