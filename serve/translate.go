package serve

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/metalearn/metalearn/mt"
)

// KindTranslation is the kind of a translation model (package mt's file
// format): it answers POST /v1/translate and adapts from pairs.
const KindTranslation = "translation"

// TranslationPair is one example of a user's adaptation set for a
// translation model: Src in language From translates to Tgt in To.
type TranslationPair struct {
	Src  string `json:"src"`
	Tgt  string `json:"tgt"`
	From string `json:"from"`
	To   string `json:"to"`
}

// TranslateRequest is the body of POST /v1/translate: Model (a base
// translation model) or ID (a model adapted by /v1/adapt), the texts and
// the language pair. Beam (default 1: greedy), MaxLen (source tokens,
// default and bound Limits.MaxLen) and NBest (default 1, at most Beam)
// are optional.
type TranslateRequest struct {
	Model  string   `json:"model,omitempty"`
	ID     string   `json:"id,omitempty"`
	Texts  []string `json:"texts"`
	From   string   `json:"from"`
	To     string   `json:"to"`
	Beam   *int     `json:"beam,omitempty"`
	MaxLen *int     `json:"max_len,omitempty"`
	NBest  *int     `json:"nbest,omitempty"`
}

// TranslateResponse is the answer to POST /v1/translate: the best
// translation of each text and its score (log-probability, length
// penalised under beam search), and with nbest > 1 the n-best lists.
type TranslateResponse struct {
	ID           string             `json:"id,omitempty"`
	Model        string             `json:"model"`
	From         string             `json:"from"`
	To           string             `json:"to"`
	Translations []string           `json:"translations"`
	Scores       []float64          `json:"scores"`
	NBest        [][]mt.Translation `json:"nbest,omitempty"`
	ElapsedMS    float64            `json:"elapsed_ms"`
}

// translateChunk is the sentences decoded between two checks of the
// request's context.
const translateChunk = 16

// modelFormat reads the "format" metadata entry of a safetensors file
// without reading its tensors ("" when there is none).
func modelFormat(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var n uint64
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil {
		return "", fmt.Errorf("not a safetensors file (no header length)")
	}
	if n > 64<<20 {
		return "", fmt.Errorf("not a safetensors file (header of %d bytes)", n)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return "", fmt.Errorf("not a safetensors file (header cut short)")
	}
	var h struct {
		Meta map[string]string `json:"__metadata__"`
	}
	// a malformed header is left to the loader to report in its words
	_ = json.Unmarshal(hdr, &h)
	return h.Meta["format"], nil
}

// newTranslationModel prepares a translation model for serving: dropout
// off once, so concurrent translations only read it.
func newTranslationModel(name string, t *mt.Model) *model {
	t.SetTraining(false)
	n := 0
	for _, p := range t.Params() {
		n += p.V.Value.Len()
	}
	return &model{name: name, kind: KindTranslation, tr: t, nparams: n, bytes: t.Bytes()}
}

func (m *model) translationInfo() ModelInfo {
	return ModelInfo{Name: m.name, Algorithm: "transformer-" + m.tr.Spec.Arch, Kind: KindTranslation, Task: "translation",
		Languages: m.tr.Vocab.Languages(), Pairs: m.tr.Spec.Pairs, DefaultSteps: defaultTranslationSteps, Params: m.nparams, Bytes: m.bytes}
}

// notTranslation refuses a translation model on the image/regression
// routes, and the reverse.
func notTranslation(m *model, route string) error {
	if m.kind == KindTranslation {
		return badRequest("model %s is a translation model: use POST /v1/translate (and /v1/adapt with pairs), not %s", m.name, route)
	}
	return nil
}

// checkLanguage validates a language field against the model.
func checkLanguage(m *mt.Model, field, lang string) error {
	if lang == "" {
		return badRequest("%s is required (a language code; the model knows %s)", field, strings.Join(m.Vocab.Languages(), ", "))
	}
	if !slices.Contains(m.Vocab.Languages(), lang) {
		return badRequest("%s = %q: the model knows %s", field, lang, strings.Join(m.Vocab.Languages(), ", "))
	}
	return nil
}

// checkText bounds one text's bytes and refuses invalid UTF-8.
func (s *Server) checkText(field, text string) error {
	if len(text) > s.cfg.Limits.MaxTextBytes {
		return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("%s is %d bytes, the limit is %d", field, len(text), s.cfg.Limits.MaxTextBytes)}
	}
	if !utf8.ValidString(text) {
		return badRequest("%s is not valid UTF-8", field)
	}
	return nil
}

func (s *Server) handleTranslate(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	var req TranslateRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	l := s.cfg.Limits
	var (
		m  *model
		tr *mt.Model
		id string
	)
	switch {
	case req.ID != "" && req.Model != "":
		return badRequest("give either model or id, not both")
	case req.ID != "":
		a, ok := s.cache.get(req.ID)
		if !ok {
			return &apiError{http.StatusNotFound, "unknown or expired adapted-model id; adapt again"}
		}
		if a.tr == nil {
			return badRequest("id belongs to model %s, which is not a translation model: use POST /v1/predict", a.model.name)
		}
		m, tr, id = a.model, a.tr, a.id
	case req.Model != "":
		var err error
		if m, err = s.reg.get(req.Model); err != nil {
			return err
		}
		if m.kind != KindTranslation {
			return badRequest("model %s is not a translation model (kind %s): use POST /v1/predict", m.name, m.kind)
		}
		tr = m.tr
	default:
		return badRequest("model is required (or id, from /v1/adapt)")
	}
	if len(req.Texts) == 0 {
		return badRequest("texts is empty: give the sentences to translate")
	}
	if len(req.Texts) > l.MaxTexts {
		return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("texts has %d entries, the limit is %d", len(req.Texts), l.MaxTexts)}
	}
	for i, t := range req.Texts {
		if err := s.checkText(fmt.Sprintf("texts[%d]", i), t); err != nil {
			return err
		}
	}
	if err := checkLanguage(tr, "from", req.From); err != nil {
		return err
	}
	if err := checkLanguage(tr, "to", req.To); err != nil {
		return err
	}
	if err := tr.CanTranslateInto(req.To); err != nil {
		return badRequest("to = %q: %s", req.To, strings.TrimPrefix(err.Error(), "mt: "))
	}
	o := mt.TranslateOptions{Beam: 1, NBest: 1, MaxLen: l.MaxLen, BatchSize: translateChunk}
	if req.Beam != nil {
		if *req.Beam < 1 || *req.Beam > l.MaxBeam {
			return badRequest("beam = %d, want 1..%d", *req.Beam, l.MaxBeam)
		}
		o.Beam = *req.Beam
	}
	if req.MaxLen != nil {
		if *req.MaxLen < 2 || *req.MaxLen > l.MaxLen {
			return badRequest("max_len = %d, want 2..%d (source tokens, tag and end of sentence included)", *req.MaxLen, l.MaxLen)
		}
		o.MaxLen = *req.MaxLen
	}
	if req.NBest != nil {
		if *req.NBest < 1 || *req.NBest > o.Beam {
			return badRequest("nbest = %d, want 1..beam (%d)", *req.NBest, o.Beam)
		}
		o.NBest = *req.NBest
	}
	out, err := s.translateBatched(r.Context(), tr, req.Texts, req.To, o)
	if err != nil {
		if r.Context().Err() != nil {
			return ctxError(r.Context(), "translating")
		}
		return err
	}
	resp := TranslateResponse{ID: id, Model: m.name, From: req.From, To: req.To,
		Translations: make([]string, len(out)), Scores: make([]float64, len(out))}
	for i, hyps := range out {
		for j := range hyps { // a model may emit byte pieces that are not UTF-8
			hyps[j].Text = strings.ToValidUTF8(hyps[j].Text, "\uFFFD")
		}
		resp.Translations[i], resp.Scores[i] = hyps[0].Text, hyps[0].Score
	}
	if o.NBest > 1 {
		resp.NBest = out
	}
	s.met.count(s.met.translations, m.name)
	resp.ElapsedMS = ms(time.Since(start))
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// translateContext translates texts translateChunk at a time, checking
// ctx between chunks (a request past its timeout, a client gone or the
// shutdown deadline stops it).
func translateContext(ctx context.Context, tr *mt.Model, texts []string, to string, o mt.TranslateOptions) ([][]mt.Translation, error) {
	out := make([][]mt.Translation, 0, len(texts))
	for lo := 0; lo < len(texts); lo += translateChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part, err := tr.Translate(texts[lo:min(lo+translateChunk, len(texts))], to, o)
		if err != nil {
			return nil, &apiError{http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), "mt: ")}
		}
		out = append(out, part...)
	}
	return out, nil
}

// adaptTranslation answers POST /v1/adapt for a translation model:
// fine-tunes a copy on the request's pairs (mt.Model.Adapt), bounded by
// Limits (pairs, bytes per text, steps, learning rate) and by the
// request's context, and caches it under a new random id.
func (s *Server) adaptTranslation(w http.ResponseWriter, r *http.Request, m *model, req *AdaptRequest, start time.Time) error {
	l := s.cfg.Limits
	if len(req.Support.Inputs) > 0 || len(req.Support.Labels) > 0 || len(req.Support.Targets) > 0 {
		return badRequest("model %s is a translation model: give pairs, not support", m.name)
	}
	if len(req.Pairs) == 0 {
		return badRequest("pairs is empty: give the user's translations as {\"src\", \"tgt\", \"from\", \"to\"}")
	}
	if len(req.Pairs) > l.MaxPairs {
		return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("pairs has %d entries, the limit is %d", len(req.Pairs), l.MaxPairs)}
	}
	pairs := make([]mt.AdaptPair, len(req.Pairs))
	for i, p := range req.Pairs {
		f := fmt.Sprintf("pairs[%d]", i)
		if err := s.checkText(f+".src", p.Src); err != nil {
			return err
		}
		if err := s.checkText(f+".tgt", p.Tgt); err != nil {
			return err
		}
		if p.Src == "" || p.Tgt == "" {
			return badRequest("%s: src and tgt must not be empty", f)
		}
		if err := checkLanguage(m.tr, f+".from", p.From); err != nil {
			return err
		}
		if err := checkLanguage(m.tr, f+".to", p.To); err != nil {
			return err
		}
		if err := m.tr.CanTranslateInto(p.To); err != nil {
			return badRequest("%s.to = %q: %s", f, p.To, strings.TrimPrefix(err.Error(), "mt: "))
		}
		pairs[i] = mt.AdaptPair{Src: p.Src, Tgt: p.Tgt, From: p.From, To: p.To}
	}
	cfg := mt.AdaptConfig{Steps: min(defaultTranslationSteps, l.MaxSteps), MaxLen: l.MaxLen, Seed: 1}
	if req.Steps != nil {
		if *req.Steps < 1 || *req.Steps > l.MaxSteps {
			return badRequest("steps = %d, want 1..%d", *req.Steps, l.MaxSteps)
		}
		cfg.Steps = *req.Steps
	}
	if req.LearningRate != nil {
		if !(*req.LearningRate > 0) || *req.LearningRate > l.MaxLR {
			return badRequest("learning_rate = %v, want 0 < learning_rate <= %v", *req.LearningRate, l.MaxLR)
		}
		cfg.LR = *req.LearningRate
	}
	var adaptedModel *mt.Model
	err := s.compute(r, func(ctx context.Context) error {
		var err error
		adaptedModel, err = m.tr.Adapt(ctx, pairs, cfg)
		if errors.Is(err, mt.ErrDiverged) {
			return errDiverged
		}
		return err
	})
	if err != nil {
		return err
	}
	a := &adapted{id: newID(), model: m, steps: cfg.Steps, tr: adaptedModel, bytes: adaptedModel.Bytes()}
	if !s.cache.put(a) {
		return &apiError{http.StatusInsufficientStorage, fmt.Sprintf("the adapted model needs %d bytes, more than the cache holds (%d)", a.bytes, s.cfg.CacheBytes)}
	}
	s.met.count(s.met.adaptations, m.name)
	writeJSON(w, http.StatusOK, AdaptResponse{ID: a.id, Model: m.name, Kind: m.kind, SupportSize: len(pairs),
		Steps: a.steps, Bytes: a.bytes, TTLSeconds: s.cfg.CacheTTL.Seconds(), ElapsedMS: ms(time.Since(start))})
	return nil
}

// defaultTranslationSteps is the adaptation steps of a translation model
// when the request gives none (bounded by Limits.MaxSteps).
const defaultTranslationSteps = 10
