//go:build mpi && cgo

package dist

/*
#cgo pkg-config: ompi-c
#include <stdlib.h>
#include <mpi.h>

static int ml_init(int *provided) {
	int inited = 0;
	MPI_Initialized(&inited);
	if (inited) {
		MPI_Query_thread(provided);
		return MPI_SUCCESS;
	}
	int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
	if (rc != MPI_SUCCESS) return rc;
	// return error codes instead of aborting inside the library, so that
	// the caller can print which rank failed and why
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static int ml_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int ml_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int ml_allreduce_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static int ml_allreduce_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int ml_bcast(void *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD);
}
static int ml_allgather(void *send, int n, void *recv) {
	return MPI_Allgather(send, n, MPI_BYTE, recv, n, MPI_BYTE, MPI_COMM_WORLD);
}
static int ml_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static void ml_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static int ml_finalize(void) { return MPI_Finalize(); }
static void ml_error_string(int code, char *buf, int *len) { MPI_Error_string(code, buf, len); }
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"
)

// Available reports whether this binary was built with MPI support.
const Available = true

func init() {
	// MPI is initialised with MPI_THREAD_SERIALIZED; keeping the main
	// goroutine (where the training loops call the collectives) on the
	// main thread also satisfies MPI_THREAD_FUNNELED implementations.
	runtime.LockOSThread()
}

// maxCount bounds the element count of one MPI call (counts are C ints);
// larger buffers go in several calls.
const maxCount = 1 << 30

type mpiComm struct {
	mu         sync.Mutex // serialises calls (MPI_THREAD_SERIALIZED)
	rank, size int
	closed     bool
}

var (
	openOnce sync.Once
	world    *mpiComm
	openErr  error
)

// Open initialises MPI (once) and returns the world communicator.
func Open() (Comm, error) {
	openOnce.Do(func() {
		var provided C.int
		if rc := C.ml_init(&provided); rc != C.MPI_SUCCESS {
			openErr = mpiError("MPI_Init_thread", rc)
			return
		}
		var r, s C.int
		if rc := C.ml_rank(&r); rc != C.MPI_SUCCESS {
			openErr = mpiError("MPI_Comm_rank", rc)
			return
		}
		if rc := C.ml_size(&s); rc != C.MPI_SUCCESS {
			openErr = mpiError("MPI_Comm_size", rc)
			return
		}
		world = &mpiComm{rank: int(r), size: int(s)}
	})
	if openErr != nil {
		return nil, openErr
	}
	return world, nil
}

func mpiError(call string, rc C.int) error {
	buf := make([]byte, C.MPI_MAX_ERROR_STRING)
	var n C.int
	C.ml_error_string(rc, (*C.char)(unsafe.Pointer(&buf[0])), &n)
	return fmt.Errorf("dist: %s: %s (MPI error %d)", call, string(buf[:int(n)]), int(rc))
}

func (c *mpiComm) Rank() int { return c.rank }
func (c *mpiComm) Size() int { return c.size }

func (c *mpiComm) lock() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("dist: collective after Close")
	}
	return nil
}

func (c *mpiComm) AllreduceSum(buf []float64) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		if rc := C.ml_allreduce_f64((*C.double)(unsafe.Pointer(&buf[0])), C.int(n)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allreduce", rc)
		}
		buf = buf[n:]
	}
	return nil
}

func (c *mpiComm) AllreduceSum32(buf []float32) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		if rc := C.ml_allreduce_f32((*C.float)(unsafe.Pointer(&buf[0])), C.int(n)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allreduce", rc)
		}
		buf = buf[n:]
	}
	return nil
}

func (c *mpiComm) Broadcast(buf []byte, root int) error {
	if root < 0 || root >= c.size {
		return fmt.Errorf("dist: broadcast from rank %d in a job of %d", root, c.size)
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		if rc := C.ml_bcast(unsafe.Pointer(&buf[0]), C.int(n), C.int(root)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Bcast", rc)
		}
		buf = buf[n:]
	}
	return nil
}

func (c *mpiComm) Allgather(send, recv []byte) error {
	if len(recv) != c.size*len(send) {
		return fmt.Errorf("dist: allgather of %d bytes from %d ranks into %d", len(send), c.size, len(recv))
	}
	if len(send) == 0 {
		return nil
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if len(send) <= maxCount {
		if rc := C.ml_allgather(unsafe.Pointer(&send[0]), C.int(len(send)), unsafe.Pointer(&recv[0])); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allgather", rc)
		}
		return nil
	}
	// chunked: gather each chunk into a scratch buffer, then scatter it
	// into the rank blocks of recv
	chunk := make([]byte, c.size*maxCount)
	for off := 0; off < len(send); off += maxCount {
		n := min(len(send)-off, maxCount)
		if rc := C.ml_allgather(unsafe.Pointer(&send[off]), C.int(n), unsafe.Pointer(&chunk[0])); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allgather", rc)
		}
		for r := 0; r < c.size; r++ {
			copy(recv[r*len(send)+off:r*len(send)+off+n], chunk[r*n:(r+1)*n])
		}
	}
	return nil
}

func (c *mpiComm) Barrier() error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if rc := C.ml_barrier(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Barrier", rc)
	}
	return nil
}

// Abort flushes nothing and ends every rank of the job (mpirun reports
// it); our own message must be printed before.
func (c *mpiComm) Abort(code int) {
	os.Stdout.Sync()
	os.Stderr.Sync()
	C.ml_abort(C.int(code))
	os.Exit(code) // not reached
}

func (c *mpiComm) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if rc := C.ml_finalize(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Finalize", rc)
	}
	return nil
}
