package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls a metalearn server (used by the load generator and the
// demo).
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string
	HTTP    *http.Client
}

// HTTPError is a non-2xx answer.
type HTTPError struct {
	Code int
	Msg  string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Msg) }

// CheckLocalURL accepts only http URLs on 127.0.0.1 (any port): the load
// generator and the demo never send traffic elsewhere.
func CheckLocalURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("url %q: %v", raw, err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.User != nil {
		return nil, fmt.Errorf("url %q: only http://127.0.0.1:PORT targets are allowed", raw)
	}
	return u, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// do sends body (already JSON, or nil for GET) and decodes the answer.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e ErrorResponse
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &HTTPError{Code: resp.StatusCode, Msg: e.Error}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// AdaptRaw posts a pre-encoded AdaptRequest.
func (c *Client) AdaptRaw(ctx context.Context, body []byte) (AdaptResponse, error) {
	var r AdaptResponse
	err := c.do(ctx, http.MethodPost, "/v1/adapt", body, &r)
	return r, err
}

// PredictRaw posts a pre-encoded PredictRequest.
func (c *Client) PredictRaw(ctx context.Context, body []byte) (PredictResponse, error) {
	var r PredictResponse
	err := c.do(ctx, http.MethodPost, "/v1/predict", body, &r)
	return r, err
}

// TranslateRaw posts a pre-encoded TranslateRequest.
func (c *Client) TranslateRaw(ctx context.Context, body []byte) (TranslateResponse, error) {
	var r TranslateResponse
	err := c.do(ctx, http.MethodPost, "/v1/translate", body, &r)
	return r, err
}

// Translate posts a TranslateRequest.
func (c *Client) Translate(ctx context.Context, req TranslateRequest) (TranslateResponse, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return TranslateResponse{}, err
	}
	return c.TranslateRaw(ctx, b)
}

// Adapt posts an AdaptRequest.
func (c *Client) Adapt(ctx context.Context, req AdaptRequest) (AdaptResponse, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return AdaptResponse{}, err
	}
	return c.AdaptRaw(ctx, b)
}

// Predict posts a PredictRequest.
func (c *Client) Predict(ctx context.Context, req PredictRequest) (PredictResponse, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return PredictResponse{}, err
	}
	return c.PredictRaw(ctx, b)
}

// Models lists the server's models.
func (c *Client) Models(ctx context.Context) ([]ModelInfo, error) {
	var r struct {
		Models []ModelInfo `json:"models"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/models", nil, &r)
	return r.Models, err
}

// Model returns one model's description.
func (c *Client) Model(ctx context.Context, name string) (ModelInfo, error) {
	ms, err := c.Models(ctx)
	if err != nil {
		return ModelInfo{}, err
	}
	for _, m := range ms {
		if m.Name == name {
			if m.Error != "" {
				return m, fmt.Errorf("model %s: %s", name, m.Error)
			}
			return m, nil
		}
	}
	return ModelInfo{}, fmt.Errorf("the server has no model %q", name)
}

// WaitHealthy polls /healthz until the server answers or timeout passes.
func (c *Client) WaitHealthy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := c.do(ctx, http.MethodGet, "/healthz", nil, nil)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
