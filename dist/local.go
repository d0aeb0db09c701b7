package dist

import (
	"errors"
	"fmt"
	"sync"
)

// Local returns the communicator of a single process (rank 0 of 1).
func Local() Comm { return local{} }

type local struct{}

func (local) Rank() int                      { return 0 }
func (local) Size() int                      { return 1 }
func (local) AllreduceSum([]float64) error   { return nil }
func (local) AllreduceSum32([]float32) error { return nil }
func (local) Barrier() error                 { return nil }
func (local) Abort(code int)                 {}
func (local) Close() error                   { return nil }

func (local) Broadcast(buf []byte, root int) error {
	if root != 0 {
		return fmt.Errorf("dist: broadcast from rank %d in a job of 1", root)
	}
	return nil
}

func (local) Allgather(send, recv []byte) error {
	if len(recv) != len(send) {
		return fmt.Errorf("dist: allgather of %d bytes into %d", len(send), len(recv))
	}
	copy(recv, send)
	return nil
}

// ErrAborted is returned by the collectives of a Group after a rank
// called Abort or Close.
var ErrAborted = errors.New("dist: another rank of the group aborted")

// NewGroup returns n communicators that are the ranks of one in-process
// job; each must be used from its own goroutine. Sums are computed in rank
// order, so every rank gets the same bits.
func NewGroup(n int) []Comm {
	if n < 1 {
		panic(fmt.Sprintf("dist: NewGroup(%d)", n))
	}
	g := &group{n: n, slots: make([]any, n)}
	g.cond = sync.NewCond(&g.mu)
	cs := make([]Comm, n)
	for r := range cs {
		cs[r] = &member{g: g, rank: r}
	}
	return cs
}

type group struct {
	n       int
	mu      sync.Mutex
	cond    *sync.Cond
	slots   []any
	arrived int
	gen     int // completed exchanges
	aborted bool
	// result of the current exchange, read by every rank before the next
	// one starts
	leaving int
}

type member struct {
	g      *group
	rank   int
	closed bool
}

func (m *member) Rank() int { return m.rank }
func (m *member) Size() int { return m.g.n }

// exchange deposits v, waits until every rank has deposited, calls read
// with all deposits (in rank order) and waits until every rank has read
// before the slots are reused.
func (m *member) exchange(v any, read func(all []any) error) error {
	g := m.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if m.closed {
		return errors.New("dist: collective on a closed communicator")
	}
	// wait for the previous exchange to be fully read
	for g.leaving > 0 && !g.aborted {
		g.cond.Wait()
	}
	if g.aborted {
		return ErrAborted
	}
	g.slots[m.rank] = v
	g.arrived++
	gen := g.gen
	if g.arrived == g.n {
		g.arrived, g.leaving = 0, g.n
		g.gen++
		g.cond.Broadcast()
	}
	for g.gen == gen && !g.aborted {
		g.cond.Wait()
	}
	if g.aborted && g.gen == gen {
		return ErrAborted
	}
	err := read(g.slots)
	g.leaving--
	if g.leaving == 0 {
		for i := range g.slots {
			g.slots[i] = nil
		}
		g.cond.Broadcast()
	}
	return err
}

func (m *member) AllreduceSum(buf []float64) error {
	in := append([]float64(nil), buf...)
	return m.exchange(in, func(all []any) error {
		for _, a := range all {
			if len(a.([]float64)) != len(buf) {
				return fmt.Errorf("dist: allreduce of different lengths")
			}
		}
		for i := range buf {
			s := all[0].([]float64)[i]
			for _, a := range all[1:] {
				s += a.([]float64)[i]
			}
			buf[i] = s
		}
		return nil
	})
}

func (m *member) AllreduceSum32(buf []float32) error {
	in := append([]float32(nil), buf...)
	return m.exchange(in, func(all []any) error {
		for _, a := range all {
			if len(a.([]float32)) != len(buf) {
				return fmt.Errorf("dist: allreduce of different lengths")
			}
		}
		for i := range buf {
			s := all[0].([]float32)[i]
			for _, a := range all[1:] {
				s += a.([]float32)[i]
			}
			buf[i] = s
		}
		return nil
	})
}

func (m *member) Broadcast(buf []byte, root int) error {
	if root < 0 || root >= m.g.n {
		return fmt.Errorf("dist: broadcast from rank %d in a job of %d", root, m.g.n)
	}
	in := append([]byte(nil), buf...)
	return m.exchange(in, func(all []any) error {
		src := all[root].([]byte)
		if len(src) != len(buf) {
			return fmt.Errorf("dist: broadcast of %d bytes into %d", len(src), len(buf))
		}
		copy(buf, src)
		return nil
	})
}

func (m *member) Allgather(send, recv []byte) error {
	if len(recv) != m.g.n*len(send) {
		return fmt.Errorf("dist: allgather of %d bytes from %d ranks into %d", len(send), m.g.n, len(recv))
	}
	in := append([]byte(nil), send...)
	return m.exchange(in, func(all []any) error {
		for r, a := range all {
			b := a.([]byte)
			if len(b) != len(send) {
				return fmt.Errorf("dist: allgather: rank %d sent %d bytes, rank %d %d", r, len(b), m.rank, len(send))
			}
			copy(recv[r*len(send):], b)
		}
		return nil
	})
}

func (m *member) Barrier() error {
	return m.exchange(nil, func([]any) error { return nil })
}

// Abort wakes every rank blocked in a collective with ErrAborted.
func (m *member) Abort(int) {
	g := m.g
	g.mu.Lock()
	g.aborted = true
	g.cond.Broadcast()
	g.mu.Unlock()
}

// Close leaves the group; as with MPI_Finalize every rank should close.
func (m *member) Close() error {
	m.closed = true
	return nil
}
