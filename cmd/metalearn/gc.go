package main

import (
	"os"
	"runtime/debug"
)

// The binary's garbage-collector policy, unless the user sets GOGC (then
// the Go defaults apply). Training frees its graphs and reuses their
// storage (autodiff.Free, tensor.Recycle), so it allocates little and
// collections are rare; a tight target (GOGC=25) then keeps the peak
// heap close to the live set instead of twice it, at little CPU cost. The
// ballast, an untouched 64 MiB allocation (its pages are never written,
// so it adds no resident memory), sets a floor under the heap target, so
// that programs with a small live set do not collect after every few
// megabytes.
var ballast []byte

func setGCPolicy() {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(25)
	ballast = make([]byte, 64<<20)
}
