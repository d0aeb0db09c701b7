package data

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// EnvDataDir is the environment variable that names the data folder.
const EnvDataDir = "METALEARN_DATA"

// ModulePath is the module path of this project; FindModuleRoot looks for
// the go.mod that declares it.
const ModulePath = "github.com/metalearn/metalearn"

// Where a data folder came from (DataDir.Source).
const (
	FromFlag     = "--data-dir"
	FromEnv      = "$" + EnvDataDir
	FromUser     = "user default"
	FromDevTree  = "development fallback"
	FromNotFound = "user default (absent: metalearn data get creates it)"
)

// DataDir is a resolved data folder: an absolute path and the rule that
// chose it.
type DataDir struct {
	Path   string
	Source string
}

func (d DataDir) String() string { return d.Path + " (" + d.Source + ")" }

// ResolveDir is the one rule for the data folder, used by every command
// that reads datasets:
//
//  1. flag, when not empty (the --data-dir of a command or data_dir of a
//     run configuration);
//  2. $METALEARN_DATA, when set;
//  3. the user-level folder UserDataDir (~/.cache/metalearn/data on
//     Linux), when it exists;
//  4. the development fallback ../shared/data next to the source tree:
//     the folder beside the root of this module's checkout, found by
//     walking up from the working directory to the go.mod that declares
//     ModulePath; when that exists;
//  5. otherwise UserDataDir, absent (metalearn data get creates it, and
//     error messages name it).
//
// The path returned is always absolute, so messages built from it say
// exactly where a file was looked for.
func ResolveDir(flag string) DataDir {
	wd, _ := os.Getwd()
	return resolveDir(flag, os.Getenv, UserDataDir, wd)
}

func resolveDir(flag string, getenv func(string) string, user func() (string, error), wd string) DataDir {
	abs := func(p string) string {
		if !filepath.IsAbs(p) && wd != "" {
			p = filepath.Join(wd, p)
		}
		return filepath.Clean(p)
	}
	if flag != "" {
		return DataDir{abs(flag), FromFlag}
	}
	if e := getenv(EnvDataDir); e != "" {
		return DataDir{abs(e), FromEnv}
	}
	u, uerr := user()
	if uerr == nil && isDir(u) {
		return DataDir{abs(u), FromUser}
	}
	if root, ok := FindModuleRoot(wd); ok {
		dev := filepath.Join(filepath.Dir(root), "shared", "data")
		if isDir(dev) {
			return DataDir{dev, FromDevTree}
		}
	}
	if uerr != nil {
		// No home directory: the development layout relative to the
		// working directory is the only remaining guess.
		return DataDir{abs(filepath.Join("..", "shared", "data")), FromDevTree}
	}
	return DataDir{abs(u), FromNotFound}
}

// UserDataDir is the user-level data folder: "metalearn/data" under
// os.UserCacheDir (~/.cache/metalearn/data on Linux or $XDG_CACHE_HOME,
// ~/Library/Caches/metalearn/data on macOS, %LocalAppData%\metalearn\data
// on Windows). The datasets are downloads that can always be fetched
// again, which is what a cache folder is for.
func UserDataDir() (string, error) {
	c, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, "metalearn", "data"), nil
}

// FindModuleRoot walks up from dir to the folder whose go.mod declares
// ModulePath, and reports whether it found one.
func FindModuleRoot(dir string) (string, bool) {
	if dir == "" {
		return "", false
	}
	dir = filepath.Clean(dir)
	for {
		if declaresModule(filepath.Join(dir, "go.mod")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func declaresModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`) == ModulePath
		}
	}
	return false
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
