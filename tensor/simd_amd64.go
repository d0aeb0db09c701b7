//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

// useSIMD enables the AVX2/FMA float32 kernels of simd_amd64.s for the
// per-channel (BatchNorm) and ReLU loops. (A variable for tests.)
var useSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func sumF32AVX2(x *float32, n int) float32

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func sqDevF32AVX2(x *float32, n int, m float32) float32

//go:noescape
func sumDotF32AVX2(gr, x *float32, n int, m float32) (s, d float32)

//go:noescape
func affineF32AVX2(o, x *float32, n int, a, b float32)

//go:noescape
func affineReluF32AVX2(o, x *float32, n int, a, b float32)

//go:noescape
func affine2F32AVX2(o, x, y *float32, n int, a, b, c float32)

//go:noescape
func reluF32AVX2(o, x *float32, n int)

//go:noescape
func maskPosF32AVX2(o, gr, y *float32, n int)

//go:noescape
func pool2AffineReluAVX2(o, r0, r1 *float32, n int, a, b float32)

//go:noescape
func maxPool2x2RowAVX2(x, out *float32, idx *int32, n, w int, a0 int32)

// useAVX512Pool enables maxPool2x2RowAVX512 (any row length, masked tail).
var useAVX512Pool = cpu.X86.HasAVX512F && cpu.X86.HasBMI2

//go:noescape
func maxPool2x2RowAVX512(x, out *float32, idx *int32, n, w int, a0 int32)

//go:noescape
func pool2AffineReluAVX512(o, r0, r1 *float32, n int, a, b float32)

// useAVX512Exp enables sigmoidF32AVX512.
var useAVX512Exp = cpu.X86.HasAVX512F

//go:noescape
func sigmoidF32AVX512(o, x *float32, n int)

// expShiftF32AVX512 sets o = e^(x*scale - shift) over n values (a positive
// multiple of 16) and returns their sum (useAVX512Exp).
//
//go:noescape
func expShiftF32AVX512(o, x *float32, n int, scale, shift float32) float32

// useWinograd enables the Winograd convolution (winograd.go) and its
// AVX-512 transforms (wino_amd64.s; AVX-512F, BMI2).
var useWinograd = cpu.X86.HasAVX512F && cpu.X86.HasBMI2

//go:noescape
func winoInputAVX512(x *float32, h, w int, v *float32, vstride int)

//go:noescape
func winoOutputAVX512(m *float32, mstride int, y *float32, h, w int, bias float32)

//go:noescape
func winoWeightsAVX512(w *float32, fstride int, flip bool, u *float32, ustride int)

//go:noescape
func winoGradAVX512(dy *float32, h, w int, v *float32, vstride int)

//go:noescape
func winoGradWeightsAVX512(du *float32, stride int, out *float32)

// useAVX512Transpose enables transpose16x16AVX512 in transpose2D.
var useAVX512Transpose = cpu.X86.HasAVX512F

//go:noescape
func transpose16x16AVX512(src *float32, lds int, dst *float32, ldd int)

// useAVX512Dropout enables dropoutF32AVX512 (64-bit lane multiplies).
var useAVX512Dropout = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// dropoutF32AVX512 is Dropout's float32 loop over n values (a positive
// multiple of 16); z0 holds the hash inputs of the first 16 elements.
//
//go:noescape
func dropoutF32AVX512(o, x *float32, n int, z0 *[16]uint64, thr uint64, keep float32)
