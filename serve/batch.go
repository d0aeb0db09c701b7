package serve

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/metalearn/metalearn/mt"
)

// Batching of concurrent translate requests. Decoding one batch of eight
// sentences costs far less than eight decodes of one
// (BenchmarkTranslateBatching), so requests for the same model, target
// language and decoding options share a batch: the first one opens it and
// it stays open while it waits for a worker; requests arriving meanwhile
// join it, up to Config.BatchTexts texts. It closes when it gets a worker
// (no added latency when a worker is free), and is decoded as one
// mt.Model.Translate call; each request takes its rows. A request whose
// context ends stops waiting (its answer is the usual 503); the batch's
// computation stops when every member has left or at the shutdown
// deadline.

// batchKey is what requests sharing a batch have in common.
type batchKey struct {
	tr                  *mt.Model
	to                  string
	beam, nbest, maxLen int
}

// batch is one open or decoding batch.
type batch struct {
	texts   []string
	members atomic.Int64 // requests still waiting for it
	ctx     context.Context
	cancel  context.CancelCauseFunc
	done    chan struct{}
	out     [][]mt.Translation
	err     error
}

// batcher holds the open batches.
type batcher struct {
	mu      sync.Mutex
	open    map[batchKey]*batch
	max     int           // texts per batch
	batches atomic.Uint64 // batches decoded (metrics)
}

func newBatcher(max int) *batcher { return &batcher{open: map[batchKey]*batch{}, max: max} }

// translateBatched translates texts as part of a batch and returns their
// translations, in order.
func (s *Server) translateBatched(ctx context.Context, tr *mt.Model, texts []string, to string, o mt.TranslateOptions) ([][]mt.Translation, error) {
	if s.draining.Load() {
		return nil, errDraining
	}
	key := batchKey{tr: tr, to: to, beam: o.Beam, nbest: o.NBest, maxLen: o.MaxLen}
	bt := s.batches
	bt.mu.Lock()
	b := bt.open[key]
	if b == nil || len(b.texts)+len(texts) > bt.max || b.ctx.Err() != nil {
		b = &batch{done: make(chan struct{})}
		b.ctx, b.cancel = context.WithCancelCause(context.Background())
		context.AfterFunc(s.base, func() { b.cancel(context.Cause(s.base)) })
		bt.open[key] = b
		go s.runBatch(key, b, o)
	}
	off := len(b.texts)
	b.texts = append(b.texts, texts...)
	b.members.Add(1)
	if len(b.texts) >= bt.max { // full: the next request opens another
		delete(bt.open, key)
	}
	bt.mu.Unlock()
	if s.afterJoin != nil {
		s.afterJoin()
	}
	select {
	case <-b.done:
		if b.err != nil {
			return nil, b.err
		}
		return b.out[off : off+len(texts)], nil
	case <-ctx.Done():
		bt.mu.Lock() // no request joins while the count may reach 0
		if b.members.Add(-1) == 0 {
			b.cancel(context.Canceled) // nobody waits for it any more
		}
		bt.mu.Unlock()
		return nil, ctx.Err()
	}
}

// runBatch waits for a worker, closes the batch and decodes it.
func (s *Server) runBatch(key batchKey, b *batch, o mt.TranslateOptions) {
	defer close(b.done)
	defer b.cancel(context.Canceled)
	err := s.pool.acquire(b.ctx)
	bt := s.batches
	bt.mu.Lock()
	if bt.open[key] == b {
		delete(bt.open, key)
	}
	texts := b.texts
	bt.mu.Unlock()
	if err != nil {
		if b.ctx.Err() != nil {
			err = ctxError(b.ctx, "waiting for a worker")
		}
		b.err = err
		return
	}
	defer s.pool.release()
	if s.beforeCompute != nil {
		s.beforeCompute()
	}
	bt.batches.Add(1)
	b.out, b.err = translateContext(b.ctx, key.tr, texts, key.to, o)
	if b.err != nil && b.ctx.Err() != nil {
		b.err = ctxError(b.ctx, "translating") // the shutdown deadline
	}
}
