//go:build !amd64 || purego

package tensor

// availableKernels lists the micro-kernels this build can run, as float32 /
// float64 pairs: only the portable Go one.
func availableKernels() [][2]*gemmKernel { return [][2]*gemmKernel{genericKernels} }

func init() {
	gemmKernels.f32, gemmKernels.f64 = genericKernels[0], genericKernels[1]
}
