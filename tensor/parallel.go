package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// maxWorkers bounds the goroutines one kernel call uses.
var maxWorkers = runtime.GOMAXPROCS(0)

// SetThreads sets how many goroutines a large kernel may use (n >= 1) and
// returns the previous value. It is not safe to call concurrently with
// running kernels.
func SetThreads(n int) int {
	old := maxWorkers
	if n < 1 {
		n = 1
	}
	maxWorkers = n
	return old
}

// Threads returns the current kernel thread count.
func Threads() int { return maxWorkers }

// minParallelWork is the smallest loop cost (in "flops", roughly element
// visits) worth waking helper goroutines for: waking an idle core costs
// tens of microseconds, about what one core needs for this much work.
// (A variable for tests.)
var minParallelWork = 1 << 17

// parallelChunkWork is the least work per chunk of a parallel loop.
const parallelChunkWork = 1 << 14

// parallelFor runs body over [0, n) split into contiguous chunks. work is an
// estimate of the cost of the whole loop in "flops"; below minParallelWork it
// runs inline on the calling goroutine, so small tensors never pay for
// goroutine start-up. Otherwise the chunks (a few per worker, each worth at
// least parallelChunkWork) are taken from a shared counter: the caller
// starts at once and helpers join as soon as the scheduler runs them, so a
// slow wake-up or a busy core costs little.
//
// Every body writes disjoint outputs, and which goroutine ran a chunk never
// changes a result: callers that reduce do so per output element in a fixed
// order, or over a fixed number of parts that does not depend on the
// thread count.
func parallelFor(n int, work int, body func(lo, hi int)) {
	w := maxWorkers
	if w > n {
		w = n
	}
	if w <= 1 || work < minParallelWork {
		body(0, n)
		return
	}
	chunks := min(n, 4*w, max(work/parallelChunkWork, w))
	var next atomic.Int64
	run := func() {
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			body(c*n/chunks, (c+1)*n/chunks)
		}
	}
	var wg sync.WaitGroup
	for i := 1; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run()
		}()
	}
	run()
	wg.Wait()
}
