// Package serve is adaptive learning as a service: an HTTP server that
// adapts a meta-learned model (package meta) to each user from a few
// labelled examples and then answers that user's queries, and serves
// translation models (package mt), adapted per user from a few pairs.
//
// # API (JSON over HTTP)
//
//	POST /v1/adapt    adapt a base model to a support set; returns an id
//	POST /v1/predict  classify / regress queries with an id, or with an
//	                  inline support set (adapt, predict and forget)
//	POST /v1/translate translate texts with a translation model or an
//	                  adapted one (translate.go)
//	GET  /v1/models   the servable models: kind, input shapes, and for
//	                  translation models the languages and pairs
//	GET  /healthz     {"status":"ok"} (no token needed)
//	GET  /metrics     Prometheus text format: requests by route and code,
//	                  latency histograms, adaptations, cache size and
//	                  evictions, queue and rejections
//
// Adapt:
//
//	POST /v1/adapt
//	{"model": "proto",
//	 "support": {"inputs": [IMG, IMG, ...], "labels": [0, 1, ...]},
//	 "steps": 5, "learning_rate": 0.4}          (both optional, MAML family)
//	-> {"id": "9f0c...", "model": "proto", "kind": "metric", "ways": 5,
//	    "support_size": 5, "steps": 0, "bytes": 15720, "ttl_seconds": 900,
//	    "elapsed_ms": 1.9}
//
// Predict:
//
//	POST /v1/predict
//	{"id": "9f0c...", "inputs": [IMG, ...]}
//	or {"model": "proto", "support": {...}, "inputs": [IMG, ...]}
//	-> {"id": "9f0c...", "model": "proto", "labels": [3, 0],
//	    "probabilities": [[0.01, 0.02, 0.01, 0.95, 0.01], [...]],
//	    "elapsed_ms": 2.3}
//
// Regression models (sinusoid) take "targets" instead of "labels" in the
// support set and answer "values" ([[y], ...]) instead of labels.
//
// An input (IMG above) is a JSON array of numbers: flat with the model's
// input size (784 for 28x28 Omniglot models), or for image models nested as
// [H][W] or [1][H][W] of any size up to the image limit, resampled to 28x28
// by area averaging like the Omniglot loaders; or a string holding a
// base64 PNG (optionally as a data: URL), converted to grey with ink =
// 1 - grey/255 (transparency over white) and resampled the same way. The
// pixel convention is the training data's: ink = 1, background = 0 (the
// original Omniglot PNGs, black strokes on white, map correctly).
//
// # Translation models
//
// A file of package mt's format (`metalearn mt train`; metadata format
// "metalearn-mt") in the model directory is served as a translation model
// (kind "translation"), next to the meta-learned ones:
//
//	POST /v1/translate
//	{"model": "tiny-mt", "texts": ["Open the file", ...], "from": "en",
//	 "to": "de", "beam": 4, "max_len": 128, "nbest": 2}
//	or {"id": "9f0c...", ...} with an adapted model
//	-> {"model": "tiny-mt", "from": "en", "to": "de",
//	    "translations": ["...", ...], "scores": [-3.2, ...],
//	    "nbest": [[{"text": "...", "logprob": -3.1, "score": -3.2}, ...], ...],
//	    "elapsed_ms": 12.5}
//
//	POST /v1/adapt
//	{"model": "tiny-mt", "pairs": [{"src": "Open the file", "tgt": "...",
//	  "from": "en", "to": "de"}, ...], "steps": 10, "learning_rate": 1e-4}
//	-> {"id": "...", "model": "tiny-mt", "kind": "translation",
//	    "support_size": 12, "steps": 10, "bytes": ..., "ttl_seconds": 900, ...}
//
// Translation is mt.Model.Translate (greedy for beam 1, else beam search;
// scores are log-probabilities, length-penalised under beam search; nbest
// lists only when nbest > 1); bytes a model emits that are not UTF-8 are
// answered as U+FFFD. "from" must be a language of the model (the
// multilingual model reads only the target tag, so it is checked, not
// used). Limits: texts per request (Limits.MaxTexts, default 64), bytes
// per text or per side of a pair (MaxTextBytes, 2048), beam (MaxBeam, 8),
// max_len in source tokens (MaxLen, default and bound 256; the output is
// at most 2*max_len+10 tokens), pairs per adaptation (MaxPairs, 200),
// steps (MaxSteps, default 10 for translation models), learning_rate
// (MaxLR; default mt.AdaptConfig's 1e-4); the request timeout stops
// translation between chunks of 16 sentences and adaptation between
// steps. Adaptation is mt.Model.Adapt: a copy of the weights fine-tuned
// in memory with Adam, then cached exactly like an image adaptation (a
// 128-bit random id, the same LRU, byte bound and TTL); the base model is
// never written. An adapted translation id is refused by /v1/predict and
// a meta-learned model by /v1/translate.
//
// Batching (batch.go): concurrent translate requests for the same model,
// target language and decoding options join one batch while it waits for
// a worker (up to Config.TranslateBatch texts); it closes when it gets a
// worker, so a request alone on an idle server waits for nothing, and is
// decoded as one Translate call. BenchmarkTranslateBatching compares eight
// one-sentence decodes with one batch of eight.
//
// # Web pages
//
// GET / is a playground (draw symbols on a 105x105 pad inked like the
// Omniglot data, build an N-way K-shot support set, adapt, classify every
// new drawing; click points for regression models) and, with
// Config.RunsDir, GET /runs is a run dashboard with the read-only API
//
//	GET /v1/runs                        run folders directly under RunsDir
//	GET /v1/runs/NAME                   config.yaml, summary.json, status
//	GET /v1/runs/NAME/metrics?offset=N  metrics.jsonl records from byte N
//
// (DashboardHandler serves the dashboard alone, for `metalearn dash`). The
// pages are embedded static files that call the API with the same token
// and limits; every response carries ContentSecurityPolicy (no inline
// script or style), no CORS headers are sent and requests marked
// cross-origin by the browser are refused; run folders and files that are
// symbolic links or outside RunsDir are never listed or read (os.Root).
// Without a token, the runs API answers only to an IP address or localhost
// in the Host header (DNS rebinding).
//
// Every error is a 4xx or 5xx with {"error": "message"}: malformed JSON,
// unknown fields, trailing data, null values, duplicate keys, wrong shapes,
// non-finite numbers, labels out of range, a class without examples,
// unknown model or id, invalid model names (400/404/413/422); a body not
// received within the read timeout (408); missing or wrong token (401);
// queue full (429); overload — wait for a worker or for request memory
// timed out, too many open connections, the request timeout passed, the
// server is shutting down — (503, each saying which); a model file that
// cannot be loaded (500, naming the model, not the server's path). A panic
// in a handler is recovered and answered 500 with a message.
//
// Example with curl (labels 0..4, one example each, arrays of 784 values):
//
//	curl -s localhost:8080/v1/adapt -H 'Authorization: Bearer TOKEN' \
//	  -d '{"model":"proto","support":{"inputs":[[0,0,...],...],"labels":[0,1,2,3,4]}}'
//	curl -s localhost:8080/v1/predict -d '{"id":"9f0c...","inputs":[[0,0,...]]}'
//
// # Models
//
// The server serves the checkpoints NAME.safetensors of one directory
// (written by `metalearn meta train` or meta.Built.Save), loaded on first
// use. Model names are plain names (letters, digits, '_', '-', '.', no
// "..", no separators); symbolic links and other non-regular files are not
// served. Gradient-based models (maml, fomaml, anil, metasgd, maml++,
// reptile, pretrain) adapt by inner-loop steps (default: the checkpoint's
// evaluation steps; learning_rate replaces the learned or configured inner
// rates by one scalar); metric-based models (protonet, r2d2) build their
// classifier from the support embeddings and take any number of classes.
//
// # What serving computes
//
// Serving computes what meta's evaluation computes (meta.Evaluate) for the
// same model and episode, which the tests check: first-order inner steps
// with the algorithm's learning rates and per-step BatchNorm modules;
// ProtoNet and R2D2 embed support and queries in one encoder pass. With
// transductive BatchNorm (the default of meta.Spec) statistics come from
// the batch, so predictions depend on which queries are sent together, as
// in evaluation; send a user's queries in one request. With running
// statistics ("running", "per-step") every example is classified on its
// own, and a metric-based adaptation stores the support embeddings
// (prototypes are rebuilt from them), so predict embeds only the queries.
//
// The base model is shared and read-only: BatchNorm is switched to
// evaluation mode at load (running statistics are read, never updated);
// adaptation writes new tensors (never in place) and inference wraps
// weights as constants, so no autodiff graph is built. autodiff.NoGrad is
// not used: it is process-wide and would break concurrent adaptations.
// Conv4 models (four pooling nn.ConvBlocks, as nn.Conv4 declares them, with
// or without a Linear head) run fused kernels (BatchNorm,
// ReLU and pooling in one pass; a hand-written first-order backward pass);
// they are checked against the generic autodiff path on random inputs at
// load and dropped on any disagreement.
//
// # Isolation, memory, concurrency
//
// Each adaptation owns its parameters (or support embeddings), kept in an
// LRU cache bounded by entry count and bytes, with a TTL counted from the
// last use; ids are 128-bit random. At most Config.Workers requests
// compute at once (default: the number of cores); up to Config.Queue more
// wait at most Config.QueueTimeout (then 503); beyond that, 429.
// Server.Shutdown stops accepting and drains in-flight requests (the CLI
// calls it on SIGINT/SIGTERM); shortly before its deadline it cancels the
// computations still running (answered 503) and closes what is left, so a
// stuck or slow client cannot hold it past the deadline. The listen
// address defaults to 127.0.0.1; an optional bearer token is compared in
// constant time. Body size, support and query counts, steps, learning
// rate, classes and image size are bounded (Limits); every step count,
// the checkpoint's default included, is bounded by Limits.MaxSteps.
//
// # Hostile clients
//
// A request cannot cost much more than its bytes: a declared
// Content-Length past the body limit is refused before the body is read;
// both JSON decoders count the elements of the request's arrays as they
// go and stop at the first past a limit (413); each POST reserves 4x its
// body from a server-wide memory budget (Config.MemoryBudget, default 256
// MiB) before reading it, and waits (up to QueueTimeout, then 503) when it
// does not fit; open connections are capped (Config.MaxConns, default
// 256; one more is answered 503 and closed). Reading a request is bounded
// by Config.ReadTimeout (408), writing an answer by Config.WriteTimeout,
// and a request's wait and computation by Config.RequestTimeout (503):
// adaptation checks its context between steps, so a client that leaves,
// a request past its timeout and a shutdown past its deadline all stop the
// computation. A model file that fails to load is not read again for
// Config.FailedLoadTTL unless its modification time or size changes, and
// concurrent first requests share one load. HostileLoad (`metalearn serve
// loadtest --hostile N`) measures normal traffic alongside such clients.
//
// LoadTest is a bounded load generator (127.0.0.1 only) and Demo the
// Omniglot "one user per alphabet" scenario; the CLI exposes them as
// `metalearn serve loadtest` and `metalearn serve demo`.
//
// The three commands' settings are Options (the server; Run serves until
// its context ends, then drains), LoadOptions and DemoOptions (options.go):
// each binds its flags (names, defaults, help), checks them and runs,
// against --url or a server started in-process over --models.
package serve
