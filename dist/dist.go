// Package dist is the communication layer of data-parallel training: a
// small Comm interface over the few collectives that meta.Train and
// mtl.Train need, with three implementations:
//
//   - Local: one process, size 1 (every collective is a copy or a no-op);
//   - NewGroup: n ranks as goroutines of one process, for tests and for
//     checking the distributed code paths without MPI;
//   - Open: the MPI world communicator, a thin cgo binding of OpenMPI
//     (mpi.go), compiled only with the build tag mpi.
//
// Building and launching with MPI:
//
//	apt-get install -y libopenmpi-dev openmpi-bin   # pkg-config ompi-c
//	go build -tags mpi ./cmd/metalearn
//	mpirun -np 4 ./metalearn meta train --distributed ...
//
// Without the tag the package is pure Go and Open returns an error that
// says how to build with MPI, so the default build stays cgo-free.
//
// Every collective must be called by all ranks in the same order with
// buffers of the same length. The byte collectives (Broadcast, Allgather)
// copy bits exactly; AllreduceSum sums elementwise and gives every rank the
// same result (Group sums in rank order; OpenMPI's allreduce algorithms
// reduce each element once, or commutatively, and distribute it).
package dist

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
)

// Comm is a communicator: the ranks 0..Size()-1 of one job.
type Comm interface {
	Rank() int
	Size() int
	// AllreduceSum replaces buf on every rank by the elementwise sum of
	// every rank's buf.
	AllreduceSum(buf []float64) error
	// AllreduceSum32 is AllreduceSum on float32 buffers.
	AllreduceSum32(buf []float32) error
	// Broadcast copies root's buf into every other rank's buf.
	Broadcast(buf []byte, root int) error
	// Allgather concatenates every rank's send (all of the same length)
	// in rank order into recv (len(recv) = Size()*len(send)) on every rank.
	Allgather(send, recv []byte) error
	// Barrier returns when every rank has entered it.
	Barrier() error
	// Abort ends the whole job with the given exit status (MPI_Abort); it
	// does not return for MPI.
	Abort(code int)
	// Close ends this rank's participation (MPI_Finalize).
	Close() error
}

// Share returns the contiguous block [lo, hi) of n items that rank takes
// when n items are split as evenly as possible over size ranks (the first
// n%size ranks take one more).
func Share(n, rank, size int) (lo, hi int) {
	q, r := n/size, n%size
	lo = rank*q + min(rank, r)
	hi = lo + q
	if rank < r {
		hi++
	}
	return lo, hi
}

// MaxShare is the largest share of n items over size ranks.
func MaxShare(n, size int) int { return (n + size - 1) / size }

// EnvSize returns the world size announced by an MPI launcher in the
// environment (OpenMPI's OMPI_COMM_WORLD_SIZE, or PMI_SIZE / PMIX_SIZE), and
// 0 when the process was not started by one. Commands use it to warn that
// several copies run without --distributed.
func EnvSize() int {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"} {
		if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// PutFloat64s writes vs little-endian into b (8 bytes each) and returns
// the rest of b.
func PutFloat64s(b []byte, vs []float64) []byte {
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return b[8*len(vs):]
}

// PutFloat32s writes vs little-endian into b (4 bytes each) and returns
// the rest of b.
func PutFloat32s(b []byte, vs []float32) []byte {
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b[4*len(vs):]
}

// Float64s reads len(dst) values written by PutFloat64s and returns the
// rest of b.
func Float64s(dst []float64, b []byte) []byte {
	for i := range dst {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return b[8*len(dst):]
}

// Float32s reads len(dst) values written by PutFloat32s and returns the
// rest of b.
func Float32s(dst []float32, b []byte) []byte {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return b[4*len(dst):]
}

// CheckSame verifies that every rank holds the same value v (a
// configuration fingerprint or a parameter checksum) and otherwise names
// the first rank that differs from rank 0. what describes v in the error.
func CheckSame(c Comm, v uint64, what string) error {
	send := binary.LittleEndian.AppendUint64(nil, v)
	recv := make([]byte, 8*c.Size())
	if err := c.Allgather(send, recv); err != nil {
		return err
	}
	v0 := binary.LittleEndian.Uint64(recv)
	for r := 1; r < c.Size(); r++ {
		if binary.LittleEndian.Uint64(recv[8*r:]) != v0 {
			return fmt.Errorf("dist: rank %d's %s differs from rank 0's", r, what)
		}
	}
	return nil
}

// AnyError shares every rank's error state: it returns nil when no rank
// had an error, the rank's own error when it had one, and otherwise an
// error naming the first failing rank (so that all ranks stop together
// instead of waiting for a collective that a failed rank will never
// enter).
func AnyError(c Comm, err error) error {
	flag := []byte{0}
	if err != nil {
		flag[0] = 1
	}
	all := make([]byte, c.Size())
	if cerr := c.Allgather(flag, all); cerr != nil {
		if err != nil {
			return err
		}
		return cerr
	}
	if err != nil {
		return err
	}
	for r, f := range all {
		if f != 0 {
			return fmt.Errorf("dist: rank %d of %d failed (see its message)", r, c.Size())
		}
	}
	return nil
}
