package data

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
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
	if n, err := ds("/good").Get(context.Background(), srv.Client(), dir, log); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "x/f.bin")); string(b) != "payload" {
		t.Fatalf("downloaded %q", b)
	}
	// present and verified: no second download
	if n, err := ds("/missing").Get(context.Background(), srv.Client(), dir, log); err != nil || n != 0 {
		t.Fatalf("present file fetched again: %d, %v", n, err)
	}
	other := t.TempDir()
	for _, path := range []string{"/bad", "/missing"} {
		_, err := ds(path).Get(context.Background(), srv.Client(), other, log)
		if err == nil || !strings.Contains(err.Error(), "by hand") || !strings.Contains(err.Error(), filepath.Join(other, "x/f.bin")) {
			t.Fatalf("%s: err = %v", path, err)
		}
		if _, err := os.Stat(filepath.Join(other, "x")); !os.IsNotExist(err) {
			t.Fatalf("%s: a failed get left the dataset folder behind (%v)", path, err)
		}
	}
	// unreachable host
	srv.Close()
	if _, err := ds("/good").Get(context.Background(), http.DefaultClient, other, log); err == nil || !strings.Contains(err.Error(), "fetch "+srv.URL+"/good by hand") {
		t.Fatalf("offline: err = %v", err)
	}
	// a dataset without URLs says how to obtain it
	if _, err := (KnownDataset{Name: "y", Obtain: "the CSV", Files: []RemoteFile{{Path: "y.csv"}}}).Get(context.Background(), nil, dir, log); err == nil || !strings.Contains(err.Error(), "obtain the CSV") {
		t.Fatalf("err = %v", err)
	}
	if _, err := LookupDataset("imagenet"); err == nil || !strings.Contains(err.Error(), "omniglot") {
		t.Fatalf("err = %v", err)
	}
}

// A failed get leaves the data folder as it found it: no dataset folder,
// no data folder it had to create, no file of a half-finished set.
func TestGetRollsBackOnFailure(t *testing.T) {
	good := []byte("payload")
	sum := md5.Sum(good)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/good" {
			w.Write(good)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	md := hex.EncodeToString(sum[:])
	ds := KnownDataset{Name: "x", Files: []RemoteFile{
		{Path: "x/a/first.bin", URL: srv.URL + "/good", MD5: md},
		{Path: "x/b/second.bin", URL: srv.URL + "/missing", MD5: md},
	}}
	parent := t.TempDir()
	dir := filepath.Join(parent, "new", "data") // does not exist yet
	if _, err := ds.Get(context.Background(), srv.Client(), dir, func(string) {}); err == nil {
		t.Fatal("get with a missing file succeeded")
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Fatalf("a failed get left %v in %s", ents, parent)
	}
	// a data folder that existed before is kept, only the dataset's part goes
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Get(context.Background(), srv.Client(), dir, func(string) {}); err == nil {
		t.Fatal("get with a missing file succeeded")
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Fatalf("data folder after a failed get: %v, %v", ents, err)
	}
}

// When the alternative file set is complete and verifies (Omniglot's npz
// repacking), get downloads nothing: data list calls the set present.
func TestGetAltSetPresent(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.NotFound(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	alt := []byte("repacked")
	sum := sha256.Sum256(alt)
	if err := os.MkdirAll(filepath.Join(dir, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x/all.npz"), alt, 0o644); err != nil {
		t.Fatal(err)
	}
	ds := KnownDataset{Name: "x",
		Files: []RemoteFile{{Path: "x/official.zip", URL: srv.URL + "/official.zip", MD5: "00"}},
		Alt:   []RemoteFile{{Path: "x/all.npz", SHA256: hex.EncodeToString(sum[:])}},
	}
	var logged []string
	n, err := ds.Get(context.Background(), srv.Client(), dir, func(s string) { logged = append(logged, s) })
	if err != nil || n != 0 || hits != 0 {
		t.Fatalf("get with the alternative set present: n=%d err=%v requests=%d", n, err, hits)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "nothing to download") || !strings.Contains(logged[0], dir) {
		t.Fatalf("log %q", logged)
	}
	// a corrupt alternative file does not count: get tries the official files
	if err := os.WriteFile(filepath.Join(dir, "x/all.npz"), []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Get(context.Background(), srv.Client(), dir, func(string) {}); err == nil || hits != 1 {
		t.Fatalf("corrupt alternative set: err=%v requests=%d", err, hits)
	}
}
