package data

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestResolveDir(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) string {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	repo := mk("clone/metalearn")
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module github.com/metalearn/metalearn\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inRepo := mk("clone/metalearn/cmd/metalearn") // a subfolder of the checkout
	shared := mk("clone/shared/data")             // ../shared/data beside the checkout
	outside := mk("elsewhere/work")               // no go.mod above it
	other := mk("other/metalearn")                // a go.mod of another module
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mk("other/shared/data")
	userHome := mk("home/.cache/metalearn/data")
	absentUser := filepath.Join(root, "nohome/.cache/metalearn/data")

	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvDataDir {
				return v
			}
			return ""
		}
	}
	user := func(p string) func() (string, error) { return func() (string, error) { return p, nil } }
	noUser := func() (string, error) { return "", errors.New("$HOME is not defined") }

	for _, tc := range []struct {
		name       string
		flag, env  string
		user       func() (string, error)
		wd         string
		want, from string
	}{
		{"flag wins over everything", "/d/flag", "/d/env", user(userHome), inRepo, "/d/flag", FromFlag},
		{"relative flag made absolute", "mydata", "/d/env", user(userHome), outside, filepath.Join(outside, "mydata"), FromFlag},
		{"env over user and dev", "", "/d/env", user(userHome), inRepo, "/d/env", FromEnv},
		{"relative env made absolute", "", "../x", user(userHome), outside, filepath.Join(root, "elsewhere/x"), FromEnv},
		{"user default when it exists", "", "", user(userHome), inRepo, userHome, FromUser},
		{"dev fallback from a subfolder of the checkout", "", "", user(absentUser), inRepo, shared, FromDevTree},
		{"dev fallback from the checkout root", "", "", user(absentUser), repo, shared, FromDevTree},
		{"another module's tree is not ours", "", "", user(absentUser), other, absentUser, FromNotFound},
		{"outside any checkout: the user default, absent", "", "", user(absentUser), outside, absentUser, FromNotFound},
		{"no home: dev fallback in the checkout", "", "", noUser, inRepo, shared, FromDevTree},
		{"no home, no checkout: ../shared/data of the cwd", "", "", noUser, outside, filepath.Join(root, "elsewhere/shared/data"), FromDevTree},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := resolveDir(tc.flag, env(tc.env), tc.user, tc.wd)
			if got.Path != filepath.Clean(tc.want) || got.Source != tc.from {
				t.Errorf("resolveDir(%q, env %q, wd %s) = %v, want %s (%s)", tc.flag, tc.env, tc.wd, got, tc.want, tc.from)
			}
			if !filepath.IsAbs(got.Path) {
				t.Errorf("path %q is not absolute", got.Path)
			}
		})
	}
}

func TestResolveDirEnv(t *testing.T) {
	d := t.TempDir()
	t.Setenv(EnvDataDir, d)
	if got := ResolveDir(""); got.Path != d || got.Source != FromEnv {
		t.Errorf("ResolveDir with $%s=%s: %v", EnvDataDir, d, got)
	}
	if got := ResolveDir(d + "/x"); got.Path != d+"/x" || got.Source != FromFlag {
		t.Errorf("ResolveDir(flag) with env set: %v", got)
	}
}
