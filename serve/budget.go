package serve

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// budget is the server-wide bound on the memory requests may hold: each
// POST reserves an estimate of what decoding its body can build
// (reservation) before reading it and returns it when answered. A
// reservation that does not fit waits for others to finish, up to the
// queue timeout, and is then refused with 503. Waiters are not served in
// order: a small request fits sooner than a large one, so ordinary traffic
// is not held behind large bodies.
type budget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	changed chan struct{} // closed and replaced whenever memory is returned
	timeout time.Duration
}

func newBudget(limit int64, timeout time.Duration) *budget {
	return &budget{limit: limit, changed: make(chan struct{}), timeout: timeout}
}

// reservation estimates the memory a body of n bytes can hold while its
// request runs: the body, the float32 values of its inputs (at most two
// per three bytes: "0,"), their tensor, and the decoders' overhead, bounded
// by 4x the body, plus a constant for the small structures.
func reservation(n int64) int64 { return 4*n + 64<<10 }

// acquire reserves n bytes (at most the whole budget), waiting while they
// do not fit.
func (b *budget) acquire(ctx context.Context, n int64) error {
	n = min(n, b.limit)
	var timer <-chan time.Time
	for {
		b.mu.Lock()
		if b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		ch := b.changed
		b.mu.Unlock()
		if timer == nil {
			t := time.NewTimer(b.timeout)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-ch:
		case <-timer:
			return &apiError{http.StatusServiceUnavailable, fmt.Sprintf("server busy: the request memory budget (%d MiB) is in use by other requests; retry later", b.limit>>20)}
		case <-ctx.Done():
			return ctxError(ctx, "waiting for request memory")
		}
	}
}

func (b *budget) release(n int64) {
	n = min(n, b.limit)
	b.mu.Lock()
	b.used -= n
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
