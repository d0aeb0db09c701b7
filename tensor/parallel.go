package tensor

import (
	"runtime"
	"sync"
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

// parallelFor runs body over [0, n) split into contiguous chunks. work is an
// estimate of the cost of the whole loop in "flops"; below minParallelWork it
// runs inline on the calling goroutine, so small tensors never pay for
// goroutine start-up.
func parallelFor(n int, work int, body func(lo, hi int)) {
	const minParallelWork = 1 << 15
	w := maxWorkers
	if w > n {
		w = n
	}
	if w <= 1 || work < minParallelWork {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + w - 1) / w
	for lo := chunk; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			body(lo, hi)
		}(lo, hi)
	}
	body(0, min(chunk, n))
	wg.Wait()
}
