//go:build !mpi || !cgo

package dist

import "errors"

// Available reports whether this binary was built with MPI support.
const Available = false

// ErrNoMPI is returned by Open in a build without the mpi tag.
var ErrNoMPI = errors.New("this binary was built without MPI support; install OpenMPI (apt-get install -y libopenmpi-dev openmpi-bin), " +
	"rebuild with `go build -tags mpi ./cmd/metalearn` (cgo on) and launch with mpirun, " +
	"e.g. `mpirun -np 2 ./metalearn meta train --distributed ...`")

// Open returns the MPI world communicator; without the mpi build tag it
// returns ErrNoMPI.
func Open() (Comm, error) { return nil, ErrNoMPI }
