package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Parallel packed multiply.
//
// C is processed in outer blocks (mo x no of C, ko deep). For each outer
// block all of its A and B panels are packed into shared buffers (the pack
// phase), then C is updated chunk by chunk (the compute phase): a chunk is a
// small rectangle of tiles, updated for every kc block of the outer block in
// order. Both phases are split into many small tasks that goroutines take
// from a shared counter, so the calling goroutine starts at once and helpers
// join whenever the scheduler starts them (waking an idle core can take tens
// of microseconds, far more than a static split can absorb). A task waits
// only for the tasks of the previous phases: spinning at first, then
// blocking, so that a worker the OS has descheduled (on a busy machine) can
// get the core back.
//
// The arithmetic per element of C is the same as gemmBlock's (the same kc
// blocks in the same order, the same micro-kernel), so the result does not
// depend on the number of workers or on which worker ran which chunk.

// gemmParallelMinWork is the smallest m*n*k (multiply-adds) worth starting
// helper goroutines for: below it the work takes well under 100µs on one
// core, about what waking an idle core can cost. (A variable for tests.)
var gemmParallelMinWork = 1 << 23

// Outer blocks are at most gemmOuterMN rows and columns, and their packed A
// and B hold at most about gemmOuterElems elements (variables for tests).
var gemmOuterMN, gemmOuterElems = 4096, 1 << 22

const (
	// Chunks of C are gemmChunkMR x gemmChunkNR tiles.
	gemmChunkMR, gemmChunkNR = 4, 4
	// Pack tasks cover about this many elements.
	gemmPackTaskElems = 1 << 14
)

type gemmPhase struct {
	start  int  // index of the phase's first task
	pack   bool // pack phase (else compute)
	io, jo int  // outer block origin in C
	po     int  // first k of the outer block
	mo, no int  // outer block size
	ko     int  // depth of the outer block
	// derived counts
	panA, panB   int // A and B micro-panels
	taskA, taskB int // pack tasks for A (per kc block) and for B
	gA, gB       int // panels per pack task
	nkc          int // kc blocks
	chM, chN     int // chunks down and across
}

type gemmJob[T Float] struct {
	kern   *gemmKernel
	a, b   []T
	c      []T
	lda    int
	ldb    int
	ldc    int
	acc    bool
	phases []gemmPhase // plus a sentinel with start == total
	total  int
	next   atomic.Int64 // next task to take
	done   atomic.Int64 // tasks finished
	// ready[i] is closed once every task before phase i is done (the last
	// entry, for the sentinel phase, once all tasks are).
	ready []chan struct{}
	ws    *gemmShared[T]
}

// gemmShared is the scratch of a parallel multiply.
type gemmShared[T Float] struct {
	a, b  []T
	tiles []T // one scratch tile per worker
}

var gemmSharedPools [2]sync.Pool

func gemmParallel[T Float](kern *gemmKernel, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, acc bool, workers int) {
	mr, nr, kc := kern.mr, kern.nr, kern.kc
	// Outer blocking: whole matrices when they fit in gemmOuterElems.
	no := min(n, gemmOuterMN)
	mo := min(m, gemmOuterMN)
	kcs := max(1, gemmOuterElems/(kc*(mo+no+mr+nr)))
	ko := min(k, kcs*kc)
	j := &gemmJob[T]{kern: kern, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, acc: acc}
	for jo := 0; jo < n; jo += no {
		for io := 0; io < m; io += mo {
			for po := 0; po < k; po += ko {
				ph := gemmPhase{io: io, jo: jo, po: po, mo: min(mo, m-io), no: min(no, n-jo), ko: min(ko, k-po)}
				ph.panA = (ph.mo + mr - 1) / mr
				ph.panB = (ph.no + nr - 1) / nr
				ph.nkc = (ph.ko + kc - 1) / kc
				ph.gA = max(1, gemmPackTaskElems/(mr*kc))
				ph.gB = max(1, gemmPackTaskElems/(nr*kc))
				ph.taskA = (ph.panA + ph.gA - 1) / ph.gA
				ph.taskB = (ph.panB + ph.gB - 1) / ph.gB
				ph.chM = (ph.panA + gemmChunkMR - 1) / gemmChunkMR
				ph.chN = (ph.panB + gemmChunkNR - 1) / gemmChunkNR
				ph.start, ph.pack = j.total, true
				j.phases = append(j.phases, ph)
				j.total += ph.nkc * (ph.taskA + ph.taskB)
				ph.start, ph.pack = j.total, false
				j.phases = append(j.phases, ph)
				j.total += ph.chM * ph.chN
			}
		}
	}
	j.phases = append(j.phases, gemmPhase{start: j.total})
	j.ready = make([]chan struct{}, len(j.phases))
	for i := range j.ready {
		j.ready[i] = make(chan struct{})
	}

	// Scratch sized for the largest outer block.
	ph0 := j.phases[0]
	var z T
	pool := &gemmSharedPools[unsafe.Sizeof(z)/8]
	ws, _ := pool.Get().(*gemmShared[T])
	if ws == nil {
		ws = new(gemmShared[T])
	}
	if size := ph0.panA * mr * ph0.ko; cap(ws.a) < size {
		ws.a = make([]T, size)
	}
	if size := ph0.panB * nr * ph0.ko; cap(ws.b) < size {
		ws.b = make([]T, size)
	}
	workers = min(workers, j.total)
	if size := workers * mr * nr; cap(ws.tiles) < size {
		ws.tiles = make([]T, size)
	}
	j.ws = ws

	for w := 1; w < workers; w++ {
		go j.work(w)
	}
	j.work(0)
	j.wait(len(j.phases) - 1)
	// Helpers that start late find no task left and never touch ws.
	j.ws = nil
	pool.Put(ws)
}

// gemmSpinWait is how long a worker spins for the previous phases before
// it blocks (blocking lets the OS run a descheduled worker on this core,
// but waking up again can take tens of microseconds).
const gemmSpinWait = 100 * time.Microsecond

// wait returns once all tasks before phase ph are done.
func (j *gemmJob[T]) wait(ph int) {
	target := int64(j.phases[ph].start)
	var t0 time.Time
	for i := 0; j.done.Load() < target; i++ {
		if i&63 != 63 {
			continue
		}
		if t0.IsZero() {
			t0 = time.Now()
		} else if time.Since(t0) > gemmSpinWait {
			<-j.ready[ph]
			return
		}
		runtime.Gosched()
	}
}

// work runs tasks until none are left. wid selects the scratch tile.
func (j *gemmJob[T]) work(wid int) {
	ph := 0
	total := int64(j.total)
	for {
		t := j.next.Add(1) - 1
		if t >= total {
			return
		}
		for int(t) >= j.phases[ph+1].start {
			ph++
		}
		p := &j.phases[ph]
		j.wait(ph) // previous phases are complete
		if p.pack {
			j.packTask(p, int(t)-p.start)
		} else {
			j.computeTask(p, int(t)-p.start, wid)
		}
		// The task that completes a phase releases its waiters.
		if j.done.Add(1) == int64(j.phases[ph+1].start) {
			close(j.ready[ph+1])
		}
	}
}

// Packed layout of an outer block: kc block q of A starts at q*kc*panA*mr
// and holds panA panels of mr*kcq elements (kcq the depth of block q); B
// likewise with panB panels of nr*kcq.

func (j *gemmJob[T]) packTask(p *gemmPhase, t int) {
	kern, kc := j.kern, j.kern.kc
	per := p.taskA + p.taskB
	q, r := t/per, t%per
	k0 := q * kc
	kcq := min(kc, p.ko-k0)
	if r < p.taskA {
		i0 := r * p.gA * kern.mr
		rows := min(p.gA*kern.mr, p.mo-i0)
		dst := j.ws.a[k0*p.panA*kern.mr+i0*kcq:]
		packA(kern, rows, kcq, j.a[(p.io+i0)*j.lda+p.po+k0:], j.lda, dst)
		return
	}
	r -= p.taskA
	j0 := r * p.gB * kern.nr
	cols := min(p.gB*kern.nr, p.no-j0)
	dst := j.ws.b[k0*p.panB*kern.nr+j0*kcq:]
	packB(kcq, cols, kern.nr, j.b[(p.po+k0)*j.ldb+p.jo+j0:], j.ldb, dst)
}

func (j *gemmJob[T]) computeTask(p *gemmPhase, t, wid int) {
	kern, kc, mr, nr := j.kern, j.kern.kc, j.kern.mr, j.kern.nr
	ci, cj := t/p.chN, t%p.chN
	ir0, ir1 := ci*gemmChunkMR, min(p.panA, (ci+1)*gemmChunkMR) // panel ranges
	jr0, jr1 := cj*gemmChunkNR, min(p.panB, (cj+1)*gemmChunkNR)
	tile := j.ws.tiles[wid*mr*nr : (wid+1)*mr*nr]
	for q := 0; q < p.nkc; q++ {
		k0 := q * kc
		kcq := min(kc, p.ko-k0)
		accum := j.acc || p.po+k0 > 0
		as := j.ws.a[k0*p.panA*mr:]
		bs := j.ws.b[k0*p.panB*nr:]
		for ir := ir0; ir < ir1; ir++ {
			ap := unsafe.Pointer(&as[ir*mr*kcq])
			i := ir * mr
			rows := min(mr, p.mo-i)
			crow := (p.io + i) * j.ldc
			for jr := jr0; jr < jr1; jr++ {
				bp := unsafe.Pointer(&bs[jr*nr*kcq])
				jj := jr * nr
				gemmTile(kern, kcq, ap, bp, j.c[crow+p.jo+jj:], j.ldc, rows, min(nr, p.no-jj), accum, tile)
			}
		}
	}
}

// parallelTasks runs body(i) for every i in [0, n), on up to maxWorkers
// goroutines that take indices dynamically (as gemmParallel does with its
// tasks), so the caller never waits for a helper that has not started.
// work estimates the cost in multiply-adds; below gemmParallelMinWork
// everything runs on the calling goroutine.
func parallelTasks(n, work int, body func(i int)) {
	workers := min(maxWorkers, n)
	if workers <= 1 || work < gemmParallelMinWork {
		for i := 0; i < n; i++ {
			body(i)
		}
		return
	}
	var next, done atomic.Int64
	finished := make(chan struct{})
	run := func() {
		for {
			i := next.Add(1) - 1
			if i >= int64(n) {
				return
			}
			body(int(i))
			if done.Add(1) == int64(n) {
				close(finished)
			}
		}
	}
	for w := 1; w < workers; w++ {
		go run()
	}
	run()
	// Spin briefly for the helpers' last tasks, then block.
	var t0 time.Time
	for i := 0; done.Load() < int64(n); i++ {
		if i&63 != 63 {
			continue
		}
		if t0.IsZero() {
			t0 = time.Now()
		} else if time.Since(t0) > gemmSpinWait {
			<-finished
			return
		}
		runtime.Gosched()
	}
}
