#!/bin/sh
# Data-parallel training on OpenMPI, on loopback: builds with -tags mpi and
# runs the 2- and 3-rank tests of dist/mpi_test.go (the collectives; `meta
# train --distributed` under mpirun -np 1 and -np 2 writes a checkpoint
# byte-identical to a single-process run's; a 2-rank checkpoint resumes on
# 3 ranks to the uninterrupted result; failing, mismatched and killed ranks
# stop the job with an error). Needs OpenMPI: apt-get install -y
# libopenmpi-dev openmpi-bin. mpirun runs with --oversubscribe (and
# --allow-run-as-root as root), so it works on a 2-core container.
set -eu
cd "$(dirname "$0")/.."
if ! command -v mpirun >/dev/null 2>&1 || ! pkg-config --exists ompi-c 2>/dev/null; then
	echo "mpi_test.sh: OpenMPI not found (apt-get install -y libopenmpi-dev openmpi-bin)" >&2
	exit 1
fi
go vet -tags mpi ./dist ./cmd/metalearn
go test -tags mpi -count=1 -timeout 20m ./dist
