package dist

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
)

func TestShare(t *testing.T) {
	for n := 0; n < 20; n++ {
		for size := 1; size < 7; size++ {
			next := 0
			for r := range size {
				lo, hi := Share(n, r, size)
				if lo != next || hi < lo || hi-lo > MaxShare(n, size) || hi-lo < n/size {
					t.Fatalf("Share(%d, %d, %d) = [%d,%d), after %d", n, r, size, lo, hi, next)
				}
				next = hi
			}
			if next != n {
				t.Fatalf("Share(%d, *, %d) covers %d items", n, size, next)
			}
		}
	}
}

func TestPacking(t *testing.T) {
	f64 := []float64{1.5, math.Inf(-1), math.Copysign(0, -1), math.NaN(), 1e-310}
	f32 := []float32{2.5, float32(math.Copysign(0, -1)), 3.4e38}
	b := make([]byte, 8*len(f64)+4*len(f32))
	rest := PutFloat32s(PutFloat64s(b, f64), f32)
	if len(rest) != 0 {
		t.Fatal(len(rest))
	}
	g64, g32 := make([]float64, len(f64)), make([]float32, len(f32))
	Float32s(g32, Float64s(g64, b))
	for i := range f64 {
		if math.Float64bits(f64[i]) != math.Float64bits(g64[i]) {
			t.Fatalf("float64 %d: %v != %v", i, g64[i], f64[i])
		}
	}
	for i := range f32 {
		if math.Float32bits(f32[i]) != math.Float32bits(g32[i]) {
			t.Fatalf("float32 %d: %v != %v", i, g32[i], f32[i])
		}
	}
}

// onRanks runs f on every rank of an n-rank group and returns the errors.
func onRanks(n int, f func(c Comm) error) []error {
	cs := NewGroup(n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r := range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs[r] = f(cs[r]) }()
	}
	wg.Wait()
	return errs
}

func TestGroupCollectives(t *testing.T) {
	errs := onRanks(3, func(c Comm) error {
		r := c.Rank()
		for round := range 50 { // repeated rounds exercise slot reuse
			buf := []float64{float64(r), float64(round)}
			if err := c.AllreduceSum(buf); err != nil {
				return err
			}
			if buf[0] != 3 || buf[1] != 3*float64(round) {
				return errors.New("allreduce")
			}
			b32 := []float32{1}
			if err := c.AllreduceSum32(b32); err != nil || b32[0] != 3 {
				return errors.New("allreduce32")
			}
			bc := []byte{byte(r)}
			if err := c.Broadcast(bc, round%3); err != nil || bc[0] != byte(round%3) {
				return errors.New("broadcast")
			}
			recv := make([]byte, 6)
			if err := c.Allgather([]byte{byte(r), byte(round)}, recv); err != nil || !bytes.Equal(recv, []byte{0, byte(round), 1, byte(round), 2, byte(round)}) {
				return errors.New("allgather")
			}
			if err := c.Barrier(); err != nil {
				return err
			}
		}
		if err := CheckSame(c, 42, "answer"); err != nil {
			return err
		}
		if err := CheckSame(c, uint64(c.Rank()/2), "rank/2"); err == nil || !strings.Contains(err.Error(), "rank 2's rank/2") {
			return errors.New("CheckSame did not name rank 2")
		}
		var mine error
		if c.Rank() == 1 {
			mine = errors.New("disk full")
		}
		err := AnyError(c, mine)
		if c.Rank() == 1 && err != mine || c.Rank() != 1 && (err == nil || !strings.Contains(err.Error(), "rank 1 of 3")) {
			return errors.New("AnyError")
		}
		return c.Close()
	})
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
}

func TestGroupAbortWakesWaiters(t *testing.T) {
	errs := onRanks(3, func(c Comm) error {
		if c.Rank() == 2 {
			c.Abort(1)
			return nil
		}
		return c.Barrier()
	})
	if !errors.Is(errs[0], ErrAborted) || !errors.Is(errs[1], ErrAborted) {
		t.Fatalf("errors %v, want ErrAborted on ranks 0 and 1", errs)
	}
}

func TestLocal(t *testing.T) {
	c := Local()
	recv := make([]byte, 2)
	if c.Rank() != 0 || c.Size() != 1 || c.Allgather([]byte{1, 2}, recv) != nil || recv[1] != 2 || c.Broadcast(recv, 1) == nil {
		t.Fatal("Local")
	}
}

func TestOpenWithoutTag(t *testing.T) {
	if Available {
		t.Skip("built with MPI")
	}
	if _, err := Open(); err == nil || !strings.Contains(err.Error(), "-tags mpi") {
		t.Fatalf("Open: %v", err)
	}
}
