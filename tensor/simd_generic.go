//go:build !amd64 || purego

package tensor

// Portable build: the assembly kernels do not exist and are never called.

var useSIMD = false

var useAVX512Pool = false

var useAVX512Exp = false

var useWinograd = false

var useAVX512Transpose = false

func sumF32AVX2(x *float32, n int) float32              { panic("unreachable") }
func dotF32AVX2(a, b *float32, n int) float32           { panic("unreachable") }
func sqDevF32AVX2(x *float32, n int, m float32) float32 { panic("unreachable") }
func sumDotF32AVX2(gr, x *float32, n int, m float32) (float32, float32) {
	panic("unreachable")
}
func affineF32AVX2(o, x *float32, n int, a, b float32)                     { panic("unreachable") }
func affineReluF32AVX2(o, x *float32, n int, a, b float32)                 { panic("unreachable") }
func affine2F32AVX2(o, x, y *float32, n int, a, b, c float32)              { panic("unreachable") }
func reluF32AVX2(o, x *float32, n int)                                     { panic("unreachable") }
func maskPosF32AVX2(o, gr, y *float32, n int)                              { panic("unreachable") }
func pool2AffineReluAVX2(o, r0, r1 *float32, n int, a, b float32)          { panic("unreachable") }
func maxPool2x2RowAVX2(x, out *float32, idx *int32, n, w int, a0 int32)    { panic("unreachable") }
func maxPool2x2RowAVX512(x, out *float32, idx *int32, n, w int, a0 int32)  { panic("unreachable") }
func pool2AffineReluAVX512(o, r0, r1 *float32, n int, a, b float32)        { panic("unreachable") }
func sigmoidF32AVX512(o, x *float32, n int)                                { panic("unreachable") }
func expShiftF32AVX512(o, x *float32, n int, scale, shift float32) float32 { panic("unreachable") }
func winoInputAVX512(x *float32, h, w int, v *float32, vstride int)        { panic("unreachable") }
func winoOutputAVX512(m *float32, mstride int, y *float32, h, w int, bias float32) {
	panic("unreachable")
}
func winoWeightsAVX512(w *float32, fstride int, flip bool, u *float32, ustride int) {
	panic("unreachable")
}
func transpose16x16AVX512(src *float32, lds int, dst *float32, ldd int) { panic("unreachable") }
func winoGradAVX512(dy *float32, h, w int, v *float32, vstride int)     { panic("unreachable") }
func winoGradWeightsAVX512(du *float32, stride int, out *float32)       { panic("unreachable") }

var useAVX512Dropout = false

func dropoutF32AVX512(o, x *float32, n int, z0 *[16]uint64, thr uint64, keep float32) {
	panic("unreachable")
}
