package serve

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/mt"
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

// registry loads base models lazily from one directory, once each. A
// load that fails is remembered for failTTL (a corrupt 100 MB file is not
// read again for every request), unless the file's modification time or
// size changes; concurrent first requests for a model share one load.
type registry struct {
	dir     string
	mu      sync.Mutex
	models  map[string]*model
	failed  map[string]failedLoad
	loading map[string]*loadCall
	failTTL time.Duration
	now     func() time.Time
	log     *log.Logger
}

// failedLoad is a remembered load failure.
type failedLoad struct {
	err   error
	mtime time.Time
	size  int64
	at    time.Time
}

// loadCall is a load in progress; its waiters read m and err after done.
type loadCall struct {
	done chan struct{}
	m    *model
	err  error
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
	return &registry{dir: abs, models: map[string]*model{}, failed: map[string]failedLoad{}, loading: map[string]*loadCall{},
		failTTL: 30 * time.Second, now: time.Now, log: log.New(io.Discard, "", 0)}, nil
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
	path := filepath.Join(r.dir, name+ModelExt)
	if filepath.Dir(path) != r.dir {
		return nil, badRequest("model name %q is invalid", name)
	}
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil, &apiError{http.StatusNotFound, fmt.Sprintf("unknown model %q (GET /v1/models lists them)", name)}
	}
	// load without the registry lock (requests for loaded models never
	// wait for a load); concurrent first requests wait for one load
	r.mu.Lock()
	if f, ok := r.failed[name]; ok && f.mtime.Equal(st.ModTime()) && f.size == st.Size() && r.now().Sub(f.at) < r.failTTL {
		r.mu.Unlock()
		return nil, f.err
	}
	if c, ok := r.loading[name]; ok {
		r.mu.Unlock()
		<-c.done
		return c.m, c.err
	}
	c := &loadCall{done: make(chan struct{})}
	r.loading[name] = c
	r.mu.Unlock()

	c.m, c.err = r.load(name, path)
	r.mu.Lock()
	delete(r.loading, name)
	if c.err != nil {
		r.failed[name] = failedLoad{err: c.err, mtime: st.ModTime(), size: st.Size(), at: r.now()}
	} else {
		delete(r.failed, name)
		r.models[name] = c.m
	}
	r.mu.Unlock()
	close(c.done)
	return c.m, c.err
}

// load reads and prepares one model. Its errors name the model, not the
// server's path (logged in full).
func (r *registry) load(name, path string) (*model, error) {
	var b *meta.Built
	format, err := modelFormat(path)
	if err == nil && format == mt.ModelFormat {
		var t *mt.Model
		if t, _, err = mt.LoadModel(path); err == nil {
			return newTranslationModel(name, t), nil
		}
	} else {
		b, err = meta.Load(path) // its own words for a file it cannot read
	}
	if err != nil {
		r.log.Printf("model %q: %v", name, err)
		msg := strings.ReplaceAll(err.Error(), path, name+ModelExt)
		msg = strings.ReplaceAll(msg, r.dir+string(filepath.Separator), "")
		msg = strings.ReplaceAll(msg, r.dir, "the model directory")
		return nil, &apiError{http.StatusInternalServerError, fmt.Sprintf("model %q could not be loaded: %s", name, msg)}
	}
	m, err := newModel(name, b)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, fmt.Sprintf("model %q cannot be served: %v", name, err)}
	}
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
	if m.kind == KindTranslation {
		return m.translationInfo()
	}
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
