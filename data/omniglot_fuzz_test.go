package data

import (
	"archive/zip"
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

// omniglotZipBytes builds an Omniglot-layout zip in memory.
func omniglotZipBytes(tb testing.TB, top string, files map[string][]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, err := zw.Create(top + name)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzOmniglotZip feeds arbitrary bytes to the Omniglot zip loader
// (archive layout, PNG decoding, resizing).
func FuzzOmniglotZip(f *testing.F) {
	tree := omniglotTree(f)
	f.Add(omniglotZipBytes(f, "images_background/", tree))
	f.Add(omniglotZipBytes(f, "", tree))
	f.Add(omniglotZipBytes(f, "", map[string][]byte{
		"A/c1/1.png": pngBytes(f, 3, 5, diag, "gray"),
		"A/c1/2.png": pngBytes(f, 5, 3, diag, "gray"),
	}))
	f.Add(omniglotZipBytes(f, "", map[string][]byte{"A/c1/1.png": []byte("not a png")}))
	f.Add(omniglotZipBytes(f, "", map[string][]byte{"../A/c1/1.png": pngBytes(f, 2, 2, diag, "gray")}))
	f.Fuzz(func(t *testing.T, b []byte) {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		ds, err := omniglotFromZip(zr, "fuzz.zip", 4)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: ") || !strings.Contains(err.Error(), "fuzz.zip") {
				t.Fatalf("error %q does not name the archive", err)
			}
			return
		}
		if err := ds.Validate(); err != nil {
			t.Fatalf("invalid dataset: %v", err)
		}
		for i, v := range ds.Images.F32() {
			if !(v >= -1e-6 && v <= 1+1e-6) {
				t.Fatalf("pixel %d = %v outside [0, 1]", i, v)
			}
		}
	})
}

// FuzzPNG feeds arbitrary bytes to the PNG-to-ink decoding used by the
// Omniglot folder and zip loaders.
func FuzzPNG(f *testing.F) {
	for _, kind := range []string{"gray", "paletted", "rgba"} {
		f.Add(pngBytes(f, 3, 4, diag, kind))
	}
	g16 := image.NewGray16(image.Rect(0, 0, 2, 2))
	g16.SetGray16(1, 1, color.Gray16{Y: 0x8000})
	var buf bytes.Buffer
	png.Encode(&buf, g16)
	f.Add(buf.Bytes())
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := decodeInkBytes(b, "fuzz.png")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.png") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if im.h < 1 || im.w < 1 || len(im.ink) != im.h*im.w || im.h*im.w > maxImagePixels {
			t.Fatalf("%dx%d image with %d values", im.w, im.h, len(im.ink))
		}
		for i, v := range im.ink {
			if !(v >= -1e-9 && v <= 1+1e-9) {
				t.Fatalf("ink %d = %v outside [0, 1]", i, v)
			}
		}
		out := make([]float32, 16)
		newResizer(im.h, im.w, 4, 4).resize(out, im.ink)
	})
}
