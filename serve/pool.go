package serve

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// pool bounds the compute: at most cap(slots) requests run at once, at
// most maxQueue more wait (each for at most timeout); the rest are refused.
type pool struct {
	slots    chan struct{}
	maxQueue int64
	timeout  time.Duration
	waiting  atomic.Int64
	running  atomic.Int64
	rejected [3]atomic.Uint64 // queue full, queue timeout, memory budget (server.go)
}

func newPool(workers, queue int, timeout time.Duration) *pool {
	return &pool{slots: make(chan struct{}, workers), maxQueue: int64(queue), timeout: timeout}
}

var (
	errQueueFull    = &apiError{http.StatusTooManyRequests, "server busy: the request queue is full; retry later"}
	errQueueTimeout = &apiError{http.StatusServiceUnavailable, "server busy: timed out waiting for a worker; retry later"}
)

// acquire takes a worker slot, waiting in the queue when all are busy.
func (p *pool) acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		p.running.Add(1)
		return nil
	default:
	}
	if p.waiting.Add(1) > p.maxQueue {
		p.waiting.Add(-1)
		p.rejected[0].Add(1)
		return errQueueFull
	}
	defer p.waiting.Add(-1)
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		p.running.Add(1)
		return nil
	case <-t.C:
		p.rejected[1].Add(1)
		return errQueueTimeout
	case <-ctx.Done():
		p.rejected[1].Add(1)
		return &apiError{http.StatusServiceUnavailable, "request cancelled while queued"}
	}
}

func (p *pool) release() {
	p.running.Add(-1)
	<-p.slots
}
