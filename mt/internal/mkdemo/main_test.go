package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestReproducible: the selection run on lo-mt gives exactly the
// embedded files.
func TestReproducible(t *testing.T) {
	files, err := Build(filepath.Join("..", "..", "..", "..", "shared", "data", "lo-mt"))
	if err != nil {
		t.Skipf("lo-mt not available (%v): reproducing the demo data needs ../shared/data/lo-mt", err)
	}
	if len(files) != 14 {
		t.Fatalf("%d files", len(files))
	}
	for name, want := range files {
		z, err := os.ReadFile(filepath.Join("..", "..", "demodata", filepath.FromSlash(name)+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := gzip.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the selection (rerun go run ./mt/internal/mkdemo)", name)
		}
	}
}

func TestWords(t *testing.T) {
	for s, n := range map[string]int{"Save the document.": 3, "x with subscript n": 4, "Value for \"Interval\"": 3, "e-mail: a/b": 4} {
		if words(s) != n {
			t.Errorf("words(%q) = %d, want %d", s, words(s), n)
		}
	}
}
