package data

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifySharedFiles(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/data not present")
	}
	want := map[string]string{"mnist": "md5", "fashion-mnist": "content-sha256", "school": "sha256"}
	for name, how := range want {
		d, err := LookupDataset(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Verify(dir) {
			if !c.Present {
				t.Skipf("%s missing", c.Path)
			}
			if c.Err != "" || c.Verified != how {
				t.Errorf("%s: verified %q (%s), want %q", c.Path, c.Verified, c.Err, how)
			}
		}
	}
}

func TestGetDownloadsAndVerifies(t *testing.T) {
	good := []byte("payload")
	sum := md5.Sum(good)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good":
			w.Write(good)
		case "/bad":
			w.Write([]byte("tampered"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	ds := func(path string) KnownDataset {
		return KnownDataset{Name: "x", Files: []RemoteFile{{Path: "x/f.bin", URL: srv.URL + path, MD5: hex.EncodeToString(sum[:])}}}
	}
	log := func(string) {}
	if err := ds("/good").Get(context.Background(), srv.Client(), dir, log); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "x/f.bin")); string(b) != "payload" {
		t.Fatalf("downloaded %q", b)
	}
	// present and verified: no second download
	if err := ds("/missing").Get(context.Background(), srv.Client(), dir, log); err != nil {
		t.Fatalf("present file fetched again: %v", err)
	}
	other := t.TempDir()
	for _, path := range []string{"/bad", "/missing"} {
		err := ds(path).Get(context.Background(), srv.Client(), other, log)
		if err == nil || !strings.Contains(err.Error(), "by hand") || !strings.Contains(err.Error(), filepath.Join(other, "x/f.bin")) {
			t.Fatalf("%s: err = %v", path, err)
		}
		ents, _ := os.ReadDir(filepath.Join(other, "x"))
		if len(ents) != 0 {
			t.Fatalf("%s: left %v behind", path, ents)
		}
	}
	// unreachable host
	srv.Close()
	if err := ds("/good").Get(context.Background(), http.DefaultClient, other, log); err == nil || !strings.Contains(err.Error(), "fetch "+srv.URL+"/good by hand") {
		t.Fatalf("offline: err = %v", err)
	}
	// a dataset without URLs says how to obtain it
	if err := (KnownDataset{Name: "y", Obtain: "the CSV", Files: []RemoteFile{{Path: "y.csv"}}}).Get(context.Background(), nil, dir, log); err == nil || !strings.Contains(err.Error(), "obtain the CSV") {
		t.Fatalf("err = %v", err)
	}
	if _, err := LookupDataset("imagenet"); err == nil || !strings.Contains(err.Error(), "omniglot") {
		t.Fatalf("err = %v", err)
	}
}
