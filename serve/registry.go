package serve

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/metalearn/metalearn/meta"
)

// ModelExt is the file extension of servable checkpoints: model NAME is
// the file NAME.safetensors in the model directory.
const ModelExt = ".safetensors"

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidModelName reports whether name is a plain model name: 1-64
// characters of letters, digits, '_', '-' and '.', starting with a letter
// or digit, without "..". Anything else (paths, separators, "..") is
// refused before the file system is touched.
func ValidModelName(name string) bool {
	return nameRE.MatchString(name) && !strings.Contains(name, "..")
}

// registry loads base models lazily from one directory, once each.
type registry struct {
	dir    string
	mu     sync.Mutex
	models map[string]*model
}

func newRegistry(dir string) (*registry, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("model directory: %v", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("model directory %s is not a directory", dir)
	}
	return &registry{dir: abs, models: map[string]*model{}}, nil
}

// get returns the named model, loading it on first use.
func (r *registry) get(name string) (*model, error) {
	if !ValidModelName(name) {
		return nil, badRequest("model name %q is invalid: use a plain name (letters, digits, '_', '-', '.'), not a path", name)
	}
	r.mu.Lock()
	m, ok := r.models[name]
	r.mu.Unlock()
	if ok {
		return m, nil
	}
	// load without the lock (requests for loaded models never wait for a
	// load); two concurrent first loads keep the first stored
	path := filepath.Join(r.dir, name+ModelExt)
	if filepath.Dir(path) != r.dir {
		return nil, badRequest("model name %q is invalid", name)
	}
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil, &apiError{http.StatusNotFound, fmt.Sprintf("unknown model %q (GET /v1/models lists them)", name)}
	}
	b, err := meta.Load(path)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, fmt.Sprintf("model %q could not be loaded: %v", name, err)}
	}
	m, err = newModel(name, b)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, fmt.Sprintf("model %q cannot be served: %v", name, err)}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.models[name]; ok {
		return old, nil
	}
	r.models[name] = m
	return m, nil
}

// names lists the model names present in the directory.
func (r *registry) names() ([]string, error) {
	ents, err := os.ReadDir(r.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(n, ModelExt) {
			continue
		}
		if name := strings.TrimSuffix(n, ModelExt); ValidModelName(name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (r *registry) loaded() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.models)
}

func (m *model) info() ModelInfo {
	task := "classification"
	if m.regression {
		task = "regression"
	}
	return ModelInfo{Name: m.name, Algorithm: m.spec.Algorithm, Dataset: m.spec.Dataset, Kind: m.kind, Task: task,
		InputShape: m.inShape, Ways: m.ways, DefaultSteps: m.defaultSteps(), InnerLR: innerLR(m), BatchNorm: m.spec.BatchNorm,
		Params: m.nparams, Bytes: m.bytes, Fused: m.fast != nil || m.fastEnc != nil || m.fastBody != nil}
}

func innerLR(m *model) float64 {
	if m.kind == KindGradient {
		return m.spec.InnerLR
	}
	return 0
}
