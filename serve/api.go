package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"strings"
	"unsafe"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/tensor"
)

// Input is one example in a request: a JSON array of numbers (flat, with
// the model's input size, or for image models nested [H][W] or [1][H][W]
// of any size up to Limits.MaxImageSide, resized like the Omniglot loader),
// a bare number (models with one input value), or a string holding a
// base64-encoded PNG (image models; an optional "data:image/png;base64,"
// prefix is accepted). Image values use the training convention: ink = 1,
// background = 0; PNGs are converted with ink = 1 - grey/255, transparency
// composited over white.
type Input = json.RawMessage

// Support is a labelled support set: Labels (class ids 0..N-1) for
// classifiers, Targets for regression models.
type Support struct {
	Inputs  []Input   `json:"inputs"`
	Labels  []int     `json:"labels,omitempty"`
	Targets []float64 `json:"targets,omitempty"`

	parsed [][]float32 // Inputs as numbers, when the fast decoder read them
}

// AdaptRequest is the body of POST /v1/adapt.
type AdaptRequest struct {
	Model   string  `json:"model"`
	Support Support `json:"support,omitzero"` // image/regression models
	// Steps of the inner loop (gradient-based models; default: the
	// checkpoint's evaluation steps; ignored by metric-based models).
	Steps *int `json:"steps,omitempty"`
	// LearningRate replaces the model's inner learning rate(s) by one
	// scalar (gradient-based models).
	LearningRate *float64 `json:"learning_rate,omitempty"`
	// Pairs is the adaptation set of a translation model (instead of
	// Support); Steps and LearningRate apply to it too.
	Pairs []TranslationPair `json:"pairs,omitempty"`
}

// AdaptResponse is the answer to POST /v1/adapt.
type AdaptResponse struct {
	ID          string  `json:"id"`
	Model       string  `json:"model"`
	Kind        string  `json:"kind"`
	Ways        int     `json:"ways,omitempty"`
	SupportSize int     `json:"support_size"`
	Steps       int     `json:"steps"`
	Bytes       int64   `json:"bytes"`
	TTLSeconds  float64 `json:"ttl_seconds"`
	ElapsedMS   float64 `json:"elapsed_ms"`
}

// PredictRequest is the body of POST /v1/predict: either ID (an adapted
// model) or Model with Support (adapt, predict and forget).
type PredictRequest struct {
	ID           string   `json:"id,omitempty"`
	Model        string   `json:"model,omitempty"`
	Support      *Support `json:"support,omitempty"`
	Steps        *int     `json:"steps,omitempty"`
	LearningRate *float64 `json:"learning_rate,omitempty"`
	Inputs       []Input  `json:"inputs"`

	parsed [][]float32 // Inputs as numbers, when the fast decoder read them
}

// PredictResponse is the answer to POST /v1/predict. Classifiers fill
// Labels and Probabilities (one row per input); regression models fill
// Values.
type PredictResponse struct {
	ID            string      `json:"id,omitempty"`
	Model         string      `json:"model"`
	Labels        []int       `json:"labels,omitempty"`
	Probabilities [][]float64 `json:"probabilities,omitempty"`
	Values        [][]float64 `json:"values,omitempty"`
	ElapsedMS     float64     `json:"elapsed_ms"`
}

// ModelInfo describes a servable model (GET /v1/models).
type ModelInfo struct {
	Name         string  `json:"name"`
	Algorithm    string  `json:"algorithm,omitempty"`
	Dataset      string  `json:"dataset,omitempty"`
	Kind         string  `json:"kind,omitempty"`
	Task         string  `json:"task,omitempty"` // classification or regression
	InputShape   []int   `json:"input_shape,omitempty"`
	Ways         int     `json:"ways,omitempty"` // fixed classes (gradient-based classifiers)
	DefaultSteps int     `json:"default_steps,omitempty"`
	InnerLR      float64 `json:"inner_lr,omitempty"`
	BatchNorm    string  `json:"batchnorm,omitempty"`
	Params       int     `json:"params,omitempty"`
	Bytes        int64   `json:"bytes,omitempty"`
	Fused        bool    `json:"fused_kernels,omitempty"`
	// translation models: the languages (with a tag) and trained pairs
	Languages []string `json:"languages,omitempty"`
	Pairs     []string `json:"pairs,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error string `json:"error"`
}

// apiError is an error with an HTTP status.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

var errDiverged = &apiError{http.StatusUnprocessableEntity, "adaptation diverged (non-finite weights); use fewer steps or a smaller learning_rate"}

// parseSupport validates a support set against the model and the limits.
func (s *Server) parseSupport(m *model, sup *Support, field string) (supportSet, error) {
	var out supportSet
	n := len(sup.Inputs)
	if n == 0 {
		return out, badRequest("%s.inputs is empty", field)
	}
	if n > s.cfg.Limits.MaxSupport {
		return out, &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("%s has %d examples, the limit is %d", field, n, s.cfg.Limits.MaxSupport)}
	}
	x, err := s.parseInputs(m, sup.Inputs, sup.parsed, field+".inputs")
	if err != nil {
		return out, err
	}
	out.x = x
	if m.regression {
		if len(sup.Labels) > 0 {
			return out, badRequest("model %s is a regression model: give %s.targets, not labels", m.name, field)
		}
		if len(sup.Targets) != n {
			return out, badRequest("%s.targets has %d values for %d inputs", field, len(sup.Targets), n)
		}
		y := tensor.New(m.dt, n, 1)
		for i, v := range sup.Targets {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
				return out, badRequest("%s.targets[%d] is not a finite number", field, i)
			}
			y.SetFlat(i, v)
		}
		out.y = y
		return out, nil
	}
	if len(sup.Targets) > 0 {
		return out, badRequest("model %s is a classifier: give %s.labels, not targets", m.name, field)
	}
	if len(sup.Labels) != n {
		return out, badRequest("%s.labels has %d values for %d inputs", field, len(sup.Labels), n)
	}
	ways := m.ways
	if m.kind == KindMetric {
		// each label in range first: l+1 below cannot overflow, and -1 is
		// named rather than miscounted
		for i, l := range sup.Labels {
			if l < 0 || l >= s.cfg.Limits.MaxWays {
				return out, badRequest("%s.labels[%d] = %d is out of range: labels are class numbers 0..N-1, at most %d classes", field, i, l, s.cfg.Limits.MaxWays)
			}
			ways = max(ways, l+1)
		}
		if ways < 2 {
			return out, badRequest("%s.labels: need at least 2 classes (labels 0..N-1)", field)
		}
	}
	count := make([]int, ways)
	for i, l := range sup.Labels {
		if l < 0 || l >= ways {
			return out, badRequest("%s.labels[%d] = %d is out of range [0, %d)", field, i, l, ways)
		}
		count[l]++
	}
	if m.kind == KindMetric {
		for c, k := range count {
			if k == 0 {
				return out, badRequest("%s.labels: class %d has no examples (labels must cover 0..%d)", field, c, ways-1)
			}
		}
	}
	out.labels = append([]int(nil), sup.Labels...)
	out.ways = ways
	return out, nil
}

// parseInputs decodes inputs into a tensor [n, inShape...].
// parsed, when set, holds the inputs already read as numbers (the fast
// decoder); one of the wrong length goes through parseInput for its error.
func (s *Server) parseInputs(m *model, in []Input, parsed [][]float32, field string) (*tensor.Tensor, error) {
	size := m.inputLen()
	x := tensor.New(m.dt, append([]int{len(in)}, m.inShape...)...)
	for i, raw := range in {
		if i < len(parsed) && len(parsed[i]) == size {
			if m.dt == tensor.Float32 {
				copy(x.F32()[i*size:(i+1)*size], parsed[i])
				continue
			}
			for j, v := range parsed[i] {
				x.SetFlat(i*size+j, float64(v))
			}
			continue
		}
		vals, err := s.parseInput(m, raw)
		if err != nil {
			return nil, badRequest("%s[%d]: %v", field, i, err)
		}
		for j, v := range vals {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, badRequest("%s[%d]: value %d is not finite", field, i, j)
			}
			x.SetFlat(i*size+j, float64(v))
		}
	}
	return x, nil
}

// parseInput decodes one example into inputLen values.
func (s *Server) parseInput(m *model, raw json.RawMessage) ([]float32, error) {
	raw = bytes.TrimSpace(raw)
	size := m.inputLen()
	if len(raw) == 0 {
		return nil, errors.New("empty input")
	}
	switch raw[0] {
	case '"':
		if !m.images() {
			return nil, fmt.Errorf("model %s takes %d numbers per input, not images", m.name, size)
		}
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return nil, err
		}
		return s.decodePNG(str, m.inShape[1], m.inShape[2])
	case '[':
		if flat, ok := parseFlat(raw, size); ok {
			return flat, nil
		}
		var flat []float32
		if err := json.Unmarshal(raw, &flat); err == nil {
			if len(flat) != size {
				return nil, fmt.Errorf("%d values, want %d (shape %v)", len(flat), size, m.inShape)
			}
			return flat, nil
		} else if !isNested(raw) {
			return nil, fmt.Errorf("want an array of numbers: %v", jsonMsg(err))
		}
		if !m.images() {
			return nil, fmt.Errorf("want a flat array of %d numbers", size)
		}
		var img [][]float32
		if err := json.Unmarshal(raw, &img); err != nil {
			var chw [][][]float32
			if err2 := json.Unmarshal(raw, &chw); err2 != nil {
				return nil, fmt.Errorf("want numbers as [%d], [H][W] or [1][H][W]: %v", size, jsonMsg(err))
			}
			if len(chw) != 1 {
				return nil, fmt.Errorf("%d channels, want 1", len(chw))
			}
			img = chw[0]
		}
		return s.resizePlane(img, m.inShape[1], m.inShape[2])
	default:
		if size != 1 {
			return nil, fmt.Errorf("want an array of %d numbers or a base64 PNG", size)
		}
		var v float32
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("want a number: %v", jsonMsg(err))
		}
		return []float32{v}, nil
	}
}

// parseFlat is the fast path for the common input, a flat array of size
// JSON numbers, giving exactly what json.Unmarshal into []float32 gives
// (both use strconv.ParseFloat with 32 bits; the scanner is the fast
// request decoder's, fastjson.go). Anything else — a nested array, a
// string, null, a number out of float32's range, another length — returns
// false, and the general path (with its error messages) takes over.
func parseFlat(raw []byte, size int) ([]float32, bool) {
	p := &fastParser{b: raw}
	v, ok := p.flat(size, "")
	return v, ok && len(v) == size && p.end()
}

// unsafeString views b as a string without copying (b is not modified
// while the string is in use).
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// isNested reports whether a JSON array's first element is an array.
func isNested(raw []byte) bool {
	rest := bytes.TrimSpace(raw[1:])
	return len(rest) > 0 && rest[0] == '['
}

func jsonMsg(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("unexpected %s", te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// resizePlane checks a rectangular [H][W] plane and resamples it to oh x ow
// by area averaging (as the Omniglot loaders do).
func (s *Server) resizePlane(img [][]float32, oh, ow int) ([]float32, error) {
	h := len(img)
	if h == 0 || len(img[0]) == 0 {
		return nil, errors.New("empty image")
	}
	w := len(img[0])
	if h > s.cfg.Limits.MaxImageSide || w > s.cfg.Limits.MaxImageSide {
		return nil, fmt.Errorf("image %dx%d is larger than %d pixels on a side", h, w, s.cfg.Limits.MaxImageSide)
	}
	src := make([]float64, 0, h*w)
	for y, row := range img {
		if len(row) != w {
			return nil, fmt.Errorf("row %d has %d values, want %d (rectangular image)", y, len(row), w)
		}
		for _, v := range row {
			src = append(src, float64(v))
		}
	}
	return data.ResizeArea(src, h, w, oh, ow), nil
}

// decodePNG decodes a base64 PNG into ink values (1 - grey/255, alpha over
// white) resampled to oh x ow.
func (s *Server) decodePNG(str string, oh, ow int) ([]float32, error) {
	if i := strings.Index(str, ";base64,"); i >= 0 && strings.HasPrefix(str, "data:") {
		str = str[i+len(";base64,"):]
	}
	raw, err := base64.StdEncoding.DecodeString(str)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(str); err != nil {
			return nil, errors.New("not valid base64")
		}
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not a PNG image: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > s.cfg.Limits.MaxImageSide || cfg.Height > s.cfg.Limits.MaxImageSide {
		return nil, fmt.Errorf("PNG is %dx%d, want 1..%d pixels on a side", cfg.Width, cfg.Height, s.cfg.Limits.MaxImageSide)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not a PNG image: %v", err)
	}
	b := img.Bounds()
	ink := inkValues(img)
	return data.ResizeArea(ink, b.Dy(), b.Dx(), oh, ow), nil
}

// inkValues maps an image to ink = 1 - grey/255 (ITU-R 601 luma, the
// transparent part showing white), the convention of the Omniglot loaders.
func inkValues(img image.Image) []float64 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float64, w*h)
	if g, ok := img.(*image.Gray); ok {
		for y := 0; y < h; y++ {
			for x, v := range g.Pix[y*g.Stride : y*g.Stride+w] {
				out[y*w+x] = 1 - float64(v)/255
			}
		}
		return out
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			white := 0xffff - a
			lum := (19595*float64(r+white) + 38470*float64(g+white) + 7471*float64(bl+white)) / 65536 / 65535
			out[y*w+x] = 1 - lum
		}
	}
	return out
}

// ArrayInput encodes values as an Input.
func ArrayInput(vals []float32) Input {
	b, _ := json.Marshal(vals)
	return b
}

// PNGInput encodes PNG bytes as an Input (base64).
func PNGInput(pngBytes []byte) Input {
	b, _ := json.Marshal(base64.StdEncoding.EncodeToString(pngBytes))
	return b
}

// EncodePNG renders an h x w plane of ink values (1 = ink) as a greyscale
// PNG (grey = 255 * (1 - ink)), the inverse of the server's decoding.
func EncodePNG(ink []float32, h, w int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range ink {
		g := math.Round(255 * (1 - float64(v)))
		img.Pix[i] = uint8(min(255, max(0, g)))
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
