package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/metalearn/metalearn/tensor"
)

// ReadIDX reads a file in the IDX format of the MNIST distribution:
// the magic bytes 0x00 0x00, an element-type byte, the number of
// dimensions d, d big-endian uint32 sizes, then the elements in row-major
// order. The file may be gzip-compressed (detected by its first bytes
// 0x1f 0x8b, whatever its name). Only the unsigned-byte element type 0x08
// is supported, which covers MNIST, Fashion-MNIST and KMNIST.
//
// It returns the sizes and the raw elements (as many bytes as the product
// of the sizes). Errors name the file: not IDX, another element type, no
// dimensions, a truncated header or body, bytes after the body, a corrupt
// gzip stream.
func ReadIDX(path string) (shape []int, data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	shape, data, err = decodeIDX(f)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return shape, data, nil
}

// idxTypeNames names the IDX element types, for error messages.
var idxTypeNames = map[byte]string{
	0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16",
	0x0C: "int32", 0x0D: "float32", 0x0E: "float64",
}

// decodeIDX reads an optionally gzipped IDX stream.
func decodeIDX(r io.Reader) ([]int, []byte, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("bad gzip header: %w", err)
		}
		defer zr.Close()
		return decodeRawIDX(zr)
	}
	return decodeRawIDX(br)
}

// maxIDXBytes bounds the body size a header may announce (16 GiB).
const maxIDXBytes = min(1<<34, math.MaxInt)

func decodeRawIDX(r io.Reader) ([]int, []byte, error) {
	var head [4]byte
	if n, err := io.ReadFull(r, head[:]); err != nil {
		return nil, nil, idxShort(err, "truncated header: %d of 4 magic bytes", n)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, nil, fmt.Errorf("not an IDX file: magic % x, want 00 00 <type> <dims>", head[:])
	}
	if head[2] != 0x08 {
		name := idxTypeNames[head[2]]
		if name == "" {
			name = "unknown"
		}
		return nil, nil, fmt.Errorf("element type 0x%02x (%s) is not supported, only 0x08 (unsigned byte)", head[2], name)
	}
	nd := int(head[3])
	if nd == 0 {
		return nil, nil, fmt.Errorf("IDX header declares 0 dimensions")
	}
	dims := make([]byte, 4*nd)
	if n, err := io.ReadFull(r, dims); err != nil {
		return nil, nil, idxShort(err, "truncated header: %d of %d dimension bytes", n, len(dims))
	}
	shape := make([]int, nd)
	total := 1
	for i := range shape {
		d := binary.BigEndian.Uint32(dims[4*i:])
		shape[i] = int(d)
		if d != 0 && total > maxIDXBytes/int(d) {
			return nil, nil, fmt.Errorf("shape %v is too large", shape[:i+1])
		}
		total *= int(d)
	}
	// Grow the buffer as bytes arrive rather than trusting the header with
	// one large allocation: a 16-byte file may claim gigabytes.
	data := make([]byte, 0, min(total, 1<<20))
	for len(data) < total {
		if len(data) == cap(data) {
			data = slices.Grow(data, min(total-len(data), cap(data)))
		}
		n, err := r.Read(data[len(data):min(cap(data), total)])
		data = data[:len(data)+n]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading data byte %d of %d: %w", len(data), total, err)
		}
	}
	if len(data) < total {
		return nil, nil, fmt.Errorf("truncated: %d of %d data bytes for shape %v", len(data), total, shape)
	}
	var extra [1]byte
	n, err := io.ReadFull(r, extra[:])
	if n > 0 {
		return nil, nil, fmt.Errorf("unexpected bytes after the %d data bytes of shape %v", total, shape)
	}
	if err == io.ErrUnexpectedEOF {
		return nil, nil, fmt.Errorf("compressed stream cut short after the %d data bytes", total)
	}
	if err != io.EOF {
		return nil, nil, fmt.Errorf("after the %d data bytes: %w", total, err)
	}
	return shape, data, nil
}

// idxShort reports a short header read: the formatted message at the end
// of the stream, the cause for any other read error (such as a corrupt
// gzip stream).
func idxShort(err error, format string, args ...any) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf(format, args...)
	}
	return fmt.Errorf("reading the header: %w", err)
}

// mnistFileNames lists the accepted names of one MNIST-style file, most
// common first: the official gzipped name, the unpacked name and the
// dotted variant some mirrors use.
func mnistFileNames(split, kind string) []string {
	idx := map[string]string{"images": "idx3", "labels": "idx1"}[kind]
	return []string{
		split + "-" + kind + "-" + idx + "-ubyte.gz",
		split + "-" + kind + "-" + idx + "-ubyte",
		split + "-" + kind + "." + idx + "-ubyte",
	}
}

func findMNISTFile(dir, split, kind string) (string, error) {
	names := mnistFileNames(split, kind)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: %s: no MNIST %s file (tried %s)", dir, kind, strings.Join(names, ", "))
}

// LoadMNIST reads one split of MNIST (or of a drop-in replacement such as
// Fashion-MNIST) from dir: split is "train" (train-images-idx3-ubyte.gz,
// train-labels-idx1-ubyte.gz) or "t10k" (t10k-...; "test" is accepted as
// a synonym). The files may also be unpacked (no .gz). Images come back as
// a [N, 1, H, W] float32 tensor (H = W = 28 for MNIST) with pixel values
// byte/255 in [0, 1], 0 = background; labels are the bytes of the labels
// file (0..9 for MNIST).
//
// The files are at https://yann.lecun.com/exdb/mnist/ (and its mirrors,
// e.g. https://ossci-datasets.s3.amazonaws.com/mnist/) and, for
// Fashion-MNIST, https://github.com/zalandoresearch/fashion-mnist or the
// Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
//
// Errors: a missing file, a bad IDX file (see ReadIDX), images that are not
// 3-D or labels that are not 1-D, a count mismatch between the two files.
func LoadMNIST(dir, split string) (images *tensor.Tensor, labels []int, err error) {
	switch split {
	case "train", "t10k":
	case "test":
		split = "t10k"
	default:
		return nil, nil, fmt.Errorf("data: LoadMNIST: split %q, want \"train\" or \"t10k\"", split)
	}
	ip, err := findMNISTFile(dir, split, "images")
	if err != nil {
		return nil, nil, err
	}
	lp, err := findMNISTFile(dir, split, "labels")
	if err != nil {
		return nil, nil, err
	}
	lshape, lraw, err := ReadIDX(lp)
	if err != nil {
		return nil, nil, err
	}
	if len(lshape) != 1 {
		return nil, nil, fmt.Errorf("data: %s: labels have shape %v, want 1-D [N]", lp, lshape)
	}
	ishape, iraw, err := ReadIDX(ip)
	if err != nil {
		return nil, nil, err
	}
	if len(ishape) != 3 {
		return nil, nil, fmt.Errorf("data: %s: images have shape %v, want 3-D [N, H, W]", ip, ishape)
	}
	if ishape[0] != lshape[0] {
		return nil, nil, fmt.Errorf("data: %s has %d images but %s has %d labels", ip, ishape[0], lp, lshape[0])
	}
	images = tensor.New(tensor.Float32, ishape[0], 1, ishape[1], ishape[2])
	px := images.F32()
	var lut [256]float32
	for i := range lut {
		lut[i] = float32(i) / 255
	}
	for i, b := range iraw {
		px[i] = lut[b]
	}
	labels = make([]int, len(lraw))
	for i, b := range lraw {
		labels[i] = int(b)
	}
	return images, labels, nil
}
