//go:build amd64 && !purego

#include "textflag.h"
#include "zmm_amd64.h"

// TAILMASKS16 sets K3 to the first min(CX, 16) of 16 output lanes and K4,
// K5 to the first 2*min(CX, 16) of 32 input lanes (a row's two halves), for
// the AVX-512 pooling kernels; clobbers AX, R8, R9.
#define TAILMASKS16 \
	MOVQ $16, R8; \
	CMPQ CX, R8; \
	CMOVQLT CX, R8; \
	MOVQ $1, AX; \
	SHLXQ R8, AX, R9; \
	DECQ R9; \
	KMOVW R9, K3; \
	ADDQ R8, R8; \
	SHLXQ R8, AX, R9; \
	DECQ R9; \
	KMOVW R9, K4; \
	SHRQ $16, R9; \
	KMOVW R9, K5

// AVX2/FMA float32 kernels for the per-channel and ReLU loops (see
// simd_amd64.go). Every length argument is a positive multiple of the
// stated block; the Go wrappers handle the rest.

// func sumF32AVX2(x *float32, n int) float32   (n % 32 == 0)
TEXT ·sumF32AVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
sumloop:
	VADDPS 0(SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	ADDQ $128, SI
	SUBQ $32, CX
	JNE sumloop
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func dotF32AVX2(a, b *float32, n int) float32   (n % 32 == 0)
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
dotloop:
	VMOVUPS 0(SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS 0(DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JNE dotloop
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func sqDevF32AVX2(x *float32, n int, m float32) float32   (n % 16 == 0)
// sum((x-m)^2)
TEXT ·sqDevF32AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS m+16(FP), Y15
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
sqloop:
	VMOVUPS 0(SI), Y4
	VMOVUPS 32(SI), Y5
	VSUBPS Y15, Y4, Y4
	VSUBPS Y15, Y5, Y5
	VFMADD231PS Y4, Y4, Y0
	VFMADD231PS Y5, Y5, Y1
	ADDQ $64, SI
	SUBQ $16, CX
	JNE sqloop
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func sumDotF32AVX2(gr, x *float32, n int, m float32) (s, d float32)   (n % 16 == 0)
// s = sum(g), d = sum(g*(x-m))
TEXT ·sumDotF32AVX2(SB), NOSPLIT, $0-40
	MOVQ gr+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Y15
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
sdloop:
	VMOVUPS 0(SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 0(DI), Y6
	VMOVUPS 32(DI), Y7
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VSUBPS Y15, Y6, Y6
	VSUBPS Y15, Y7, Y7
	VFMADD231PS Y6, Y4, Y2
	VFMADD231PS Y7, Y5, Y3
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNE sdloop
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, s+32(FP)
	VADDPS Y3, Y2, Y2
	VEXTRACTF128 $1, Y2, X3
	VADDPS X3, X2, X2
	VHADDPS X2, X2, X2
	VHADDPS X2, X2, X2
	VMOVSS X2, d+36(FP)
	VZEROUPPER
	RET

// func affineF32AVX2(o, x *float32, n int, a, b float32)   (n % 16 == 0)
// o = a*x + b
TEXT ·affineF32AVX2(SB), NOSPLIT, $0-32
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Y15
	VBROADCASTSS b+28(FP), Y14
affloop:
	VMOVUPS 0(SI), Y4
	VMOVUPS 32(SI), Y5
	VFMADD213PS Y14, Y15, Y4
	VFMADD213PS Y14, Y15, Y5
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNE affloop
	VZEROUPPER
	RET

// func affineReluF32AVX2(o, x *float32, n int, a, b float32)   (n % 16 == 0)
// o = max(a*x + b, 0)
TEXT ·affineReluF32AVX2(SB), NOSPLIT, $0-32
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Y15
	VBROADCASTSS b+28(FP), Y14
	VXORPS Y13, Y13, Y13
afrloop:
	VMOVUPS 0(SI), Y4
	VMOVUPS 32(SI), Y5
	VFMADD213PS Y14, Y15, Y4
	VFMADD213PS Y14, Y15, Y5
	VMAXPS Y13, Y4, Y4
	VMAXPS Y13, Y5, Y5
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNE afrloop
	VZEROUPPER
	RET

// func affine2F32AVX2(o, x, y *float32, n int, a, b, c float32)   (n % 16 == 0)
// o = a*x + b*y + c
TEXT ·affine2F32AVX2(SB), NOSPLIT, $0-44
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS a+32(FP), Y15
	VBROADCASTSS b+36(FP), Y14
	VBROADCASTSS c+40(FP), Y13
af2loop:
	VMOVUPS 0(SI), Y4
	VMOVUPS 32(SI), Y5
	VFMADD213PS Y13, Y15, Y4
	VFMADD213PS Y13, Y15, Y5
	VFMADD231PS 0(DX), Y14, Y4
	VFMADD231PS 32(DX), Y14, Y5
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JNE af2loop
	VZEROUPPER
	RET

// func reluF32AVX2(o, x *float32, n int)   (n % 16 == 0)
// o = max(x, 0), NaN -> 0
TEXT ·reluF32AVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y13, Y13, Y13
reluloop:
	VMOVUPS 0(SI), Y4
	VMOVUPS 32(SI), Y5
	VMAXPS Y13, Y4, Y4
	VMAXPS Y13, Y5, Y5
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNE reluloop
	VZEROUPPER
	RET

// func maskPosF32AVX2(o, gr, y *float32, n int)   (n % 16 == 0)
// o = g where y > 0, else 0
TEXT ·maskPosF32AVX2(SB), NOSPLIT, $0-32
	MOVQ o+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y13, Y13, Y13
maskloop:
	VMOVUPS 0(DX), Y6
	VMOVUPS 32(DX), Y7
	VCMPPS $0x1e, Y13, Y6, Y6
	VCMPPS $0x1e, Y13, Y7, Y7
	VANDPS 0(SI), Y6, Y4
	VANDPS 32(SI), Y7, Y5
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JNE maskloop
	VZEROUPPER
	RET

// func pool2AffineReluAVX2(o, r0, r1 *float32, n int, a, b float32)   (n % 8 == 0)
// o[j] = max(0, a*r0[2j]+b, a*r0[2j+1]+b, a*r1[2j]+b, a*r1[2j+1]+b):
// a 2x2 max-pool of relu(a*z + b) over two input rows.
TEXT ·pool2AffineReluAVX2(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS a+32(FP), Y15
	VBROADCASTSS b+36(FP), Y14
	VXORPS Y13, Y13, Y13
p2loop:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 0(DX), Y2
	VMOVUPS 32(DX), Y3
	VFMADD213PS Y14, Y15, Y0
	VFMADD213PS Y14, Y15, Y1
	VFMADD213PS Y14, Y15, Y2
	VFMADD213PS Y14, Y15, Y3
	VMAXPS Y2, Y0, Y0
	VMAXPS Y3, Y1, Y1
	VSHUFPS $0x88, Y1, Y0, Y4
	VSHUFPS $0xDD, Y1, Y0, Y5
	VMAXPS Y5, Y4, Y4
	VPERMPD $0xD8, Y4, Y4
	VMAXPS Y13, Y4, Y4
	VMOVUPS Y4, 0(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNE p2loop
	VZEROUPPER
	RET


// func maxPool2x2RowAVX2(x, out *float32, idx *int32, n, w int, a0 int32)   (n % 8 == 0)
// For j < n, the 2x2 window at x[2j], x[2j+1], x[w+2j], x[w+2j+1]: out[j]
// = its maximum and idx[j] = a0 + its offset, the first maximum winning
// and a NaN winning (as pick does: a later value wins when it is greater
// or NaN).
TEXT ·maxPool2x2RowAVX2(SB), NOSPLIT, $0-44
	MOVQ x+0(FP), SI
	MOVQ out+8(FP), DI
	MOVQ idx+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ w+32(FP), AX
	LEAQ (SI)(AX*4), DX
	MOVQ AX, X11
	VPBROADCASTD X11, Y11
	INCQ AX
	MOVQ AX, X10
	VPBROADCASTD X10, Y10
	MOVQ $1, AX
	MOVQ AX, X12
	VPBROADCASTD X12, Y12
	MOVQ $16, AX
	MOVQ AX, X13
	VPBROADCASTD X13, Y13
	MOVL a0+40(FP), AX
	MOVQ AX, X15
	VPBROADCASTD X15, Y15
	VMOVDQU ramp32<>(SB), Y14 // 0, 2, ..., 14
mploop:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS 0(DX), Y0
	VMOVUPS 32(DX), Y1
	VSHUFPS $0x88, Y1, Y0, Y4
	VSHUFPS $0xDD, Y1, Y0, Y5
	VPERMPD $0xD8, Y4, Y4
	VPERMPD $0xD8, Y5, Y5
	VXORPS Y6, Y6, Y6
	VCMPPS $0x1E, Y2, Y3, Y7
	VCMPPS $0x03, Y3, Y3, Y8
	VORPS Y8, Y7, Y7
	VBLENDVPS Y7, Y3, Y2, Y2
	VBLENDVPS Y7, Y12, Y6, Y6
	VCMPPS $0x1E, Y2, Y4, Y7
	VCMPPS $0x03, Y4, Y4, Y8
	VORPS Y8, Y7, Y7
	VBLENDVPS Y7, Y4, Y2, Y2
	VBLENDVPS Y7, Y11, Y6, Y6
	VCMPPS $0x1E, Y2, Y5, Y7
	VCMPPS $0x03, Y5, Y5, Y8
	VORPS Y8, Y7, Y7
	VBLENDVPS Y7, Y5, Y2, Y2
	VBLENDVPS Y7, Y10, Y6, Y6
	VMOVUPS Y2, 0(DI)
	VPADDD Y14, Y15, Y9
	VPADDD Y6, Y9, Y9
	VMOVDQU Y9, 0(BX)
	VPADDD Y13, Y15, Y15
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $32, DI
	ADDQ $32, BX
	SUBQ $8, CX
	JNE mploop
	VZEROUPPER
	RET

DATA ramp32<>+0(SB)/4, $0
DATA ramp32<>+4(SB)/4, $2
DATA ramp32<>+8(SB)/4, $4
DATA ramp32<>+12(SB)/4, $6
DATA ramp32<>+16(SB)/4, $8
DATA ramp32<>+20(SB)/4, $10
DATA ramp32<>+24(SB)/4, $12
DATA ramp32<>+28(SB)/4, $14
DATA ramp32<>+32(SB)/4, $16
DATA ramp32<>+36(SB)/4, $18
DATA ramp32<>+40(SB)/4, $20
DATA ramp32<>+44(SB)/4, $22
DATA ramp32<>+48(SB)/4, $24
DATA ramp32<>+52(SB)/4, $26
DATA ramp32<>+56(SB)/4, $28
DATA ramp32<>+60(SB)/4, $30
GLOBL ramp32<>(SB), RODATA|NOPTR, $64

// func maxPool2x2RowAVX512(x, out *float32, idx *int32, n, w int, a0 int32)   (any n >= 0)
// maxPool2x2RowAVX2 for 16 windows per step, the last step masked: no
// element past the row's 2n inputs (or n outputs) is read or written.
TEXT ·maxPool2x2RowAVX512(SB), NOSPLIT, $0-44
	MOVQ x+0(FP), SI
	MOVQ out+8(FP), DI
	MOVQ idx+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ w+32(FP), AX
	LEAQ (SI)(AX*4), DX
	VPBROADCASTD AX, Z11          // w
	INCQ AX
	VPBROADCASTD AX, Z10          // w+1
	MOVL $1, AX
	VPBROADCASTD AX, Z12          // 1
	MOVL $32, AX
	VPBROADCASTD AX, Z13          // index step per 16 windows
	MOVL a0+40(FP), AX
	VPBROADCASTD AX, Z15          // a0 of the current step
	VMOVDQU32 ramp32<>(SB), Z14   // 0, 2, ..., 30: even lanes
	VPADDD Z12, Z14, Z16          // 1, 3, ..., 31: odd lanes

mp5loop:
	TESTQ CX, CX
	JLE mp5done
	TAILMASKS16
	VMOVUPS.Z 0(SI), K4, Z0
	VMOVUPS.Z 64(SI), K5, Z1
	VMOVAPS Z0, Z2
	VPERMT2PS Z1, Z14, Z2         // x[2j]
	VPERMT2PS Z1, Z16, Z0         // x[2j+1]
	VMOVUPS.Z 0(DX), K4, Z4
	VMOVUPS.Z 64(DX), K5, Z1
	VMOVAPS Z4, Z5
	VPERMT2PS Z1, Z14, Z4         // x[w+2j]
	VPERMT2PS Z1, Z16, Z5         // x[w+2j+1]
	VPXORD Z6, Z6, Z6             // offset of the maximum
	VCMPPS $0x1E, Z2, Z0, K1      // later value greater
	VCMPPS $0x03, Z0, Z0, K2      // or NaN
	KORW K1, K2, K1
	VMOVAPS Z0, K1, Z2
	VMOVDQA32 Z12, K1, Z6
	VCMPPS $0x1E, Z2, Z4, K1
	VCMPPS $0x03, Z4, Z4, K2
	KORW K1, K2, K1
	VMOVAPS Z4, K1, Z2
	VMOVDQA32 Z11, K1, Z6
	VCMPPS $0x1E, Z2, Z5, K1
	VCMPPS $0x03, Z5, Z5, K2
	KORW K1, K2, K1
	VMOVAPS Z5, K1, Z2
	VMOVDQA32 Z10, K1, Z6
	VMOVUPS Z2, K3, 0(DI)
	VPADDD Z14, Z15, Z9
	VPADDD Z6, Z9, Z9
	VMOVDQU32 Z9, K3, 0(BX)
	VPADDD Z13, Z15, Z15
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $64, DI
	ADDQ $64, BX
	SUBQ $16, CX
	JMP mp5loop

mp5done:
	VZEROUPPER
	RET

// func pool2AffineReluAVX512(o, r0, r1 *float32, n int, a, b float32)   (any n >= 0)
// pool2AffineReluAVX2 for 16 outputs per step, the last step masked.
TEXT ·pool2AffineReluAVX512(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS a+32(FP), Z15
	VBROADCASTSS b+36(FP), Z14
	VPXORD Z13, Z13, Z13
	VMOVDQU32 ramp32<>(SB), Z12   // even lanes
	MOVL $1, AX
	VPBROADCASTD AX, Z11
	VPADDD Z11, Z12, Z11          // odd lanes

p5loop:
	TESTQ CX, CX
	JLE p5done
	TAILMASKS16
	VMOVUPS.Z 0(SI), K4, Z0
	VMOVUPS.Z 64(SI), K5, Z1
	VMOVUPS.Z 0(DX), K4, Z2
	VMOVUPS.Z 64(DX), K5, Z3
	VFMADD213PS Z14, Z15, Z0
	VFMADD213PS Z14, Z15, Z1
	VFMADD213PS Z14, Z15, Z2
	VFMADD213PS Z14, Z15, Z3
	VMAXPS Z2, Z0, Z0
	VMAXPS Z3, Z1, Z1
	VMOVAPS Z0, Z4
	VPERMT2PS Z1, Z12, Z4
	VPERMT2PS Z1, Z11, Z0
	VMAXPS Z0, Z4, Z4
	VMAXPS Z13, Z4, Z4
	VMOVUPS Z4, K3, 0(DI)
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP p5loop

p5done:
	VZEROUPPER
	RET

// func sigmoidF32AVX512(o, x *float32, n int)   (n % 16 == 0, n > 0)
// o = 1/(1+e^-x) as num/(1+e) with e = e^-|x| and num = 1 where x >= 0,
// e elsewhere. e^a (a = -|x| clamped at -104): a = k ln2 + r with k =
// round(a log2 e), ln2 in two parts; e^r by its Taylor polynomial of
// degree 7 in float32 (truncation < 1e-8 relative); times 2^k (VSCALEFPS,
// subnormal results included). NaN stays NaN.
TEXT ·sigmoidF32AVX512(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVL $0x80000000, AX
	VPBROADCASTD AX, Z20 // sign bit
	MOVL $0x3fb8aa3b, AX
	VPBROADCASTD AX, Z21 // log2(e)
	MOVL $0x3f318000, AX
	VPBROADCASTD AX, Z22 // ln2, high part (0.693359375)
	MOVL $0xb95e8083, AX
	VPBROADCASTD AX, Z23 // ln2, low part (-2.12194440e-4)
	MOVL $0x39500d01, AX
	VPBROADCASTD AX, Z24 // 1/7!
	MOVL $0x3ab60b61, AX
	VPBROADCASTD AX, Z25 // 1/6!
	MOVL $0x3c088889, AX
	VPBROADCASTD AX, Z26 // 1/5!
	MOVL $0x3d2aaaab, AX
	VPBROADCASTD AX, Z27 // 1/4!
	MOVL $0x3e2aaaab, AX
	VPBROADCASTD AX, Z28 // 1/3!
	MOVL $0x3f000000, AX
	VPBROADCASTD AX, Z29 // 1/2
	MOVL $0x3f800000, AX
	VPBROADCASTD AX, Z30 // 1
	MOVL $0xc2d00000, AX
	VPBROADCASTD AX, Z31 // -104
	VPXORD Z19, Z19, Z19 // 0
sigloop:
	VMOVUPS 0(SI), Z0
	VORPS Z20, Z0, Z1          // a = -|x|
	VMAXPS Z1, Z31, Z1         // a = max(a, -104); NaN stays (second source)
	VMULPS Z21, Z1, Z2
	VRNDSCALEPS $0, Z2, Z2     // k = round(a log2 e)
	VMOVAPS Z1, Z3
	VFNMADD231PS Z22, Z2, Z3   // r = a - k ln2hi
	VFNMADD231PS Z23, Z2, Z3   // r -= k ln2lo
	VMOVAPS Z24, Z4
	VFMADD213PS Z25, Z3, Z4    // Horner: p = p r + c
	VFMADD213PS Z26, Z3, Z4
	VFMADD213PS Z27, Z3, Z4
	VFMADD213PS Z28, Z3, Z4
	VFMADD213PS Z29, Z3, Z4
	VFMADD213PS Z30, Z3, Z4
	VFMADD213PS Z30, Z3, Z4    // p = e^r
	VSCALEFPS Z2, Z4, Z4       // e = p 2^k
	VADDPS Z30, Z4, Z5         // 1 + e
	VCMPPS $0x1D, Z19, Z0, K1  // x >= 0
	VMOVAPS Z30, K1, Z4        // numerator 1 there
	VDIVPS Z5, Z4, Z6
	VMOVUPS Z6, 0(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNE sigloop
	VZEROUPPER
	RET

// func transpose16x16AVX512(src *float32, lds int, dst *float32, ldd int)
// dst[j*ldd + i] = src[i*lds + j] for i, j < 16 (strides in elements):
// 32-bit and 64-bit interleaves, then two rounds of 128-bit shuffles.
TEXT ·transpose16x16AVX512(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), BX
	SHLQ $2, AX
	SHLQ $2, BX
	LOADZ16(SI, AX)
	VUNPCKLPS Z1, Z0, Z16
	VUNPCKHPS Z1, Z0, Z17
	VUNPCKLPS Z3, Z2, Z18
	VUNPCKHPS Z3, Z2, Z19
	VUNPCKLPS Z5, Z4, Z20
	VUNPCKHPS Z5, Z4, Z21
	VUNPCKLPS Z7, Z6, Z22
	VUNPCKHPS Z7, Z6, Z23
	VUNPCKLPS Z9, Z8, Z24
	VUNPCKHPS Z9, Z8, Z25
	VUNPCKLPS Z11, Z10, Z26
	VUNPCKHPS Z11, Z10, Z27
	VUNPCKLPS Z13, Z12, Z28
	VUNPCKHPS Z13, Z12, Z29
	VUNPCKLPS Z15, Z14, Z30
	VUNPCKHPS Z15, Z14, Z31
	VUNPCKLPD Z18, Z16, Z0
	VUNPCKHPD Z18, Z16, Z1
	VUNPCKLPD Z19, Z17, Z2
	VUNPCKHPD Z19, Z17, Z3
	VUNPCKLPD Z22, Z20, Z4
	VUNPCKHPD Z22, Z20, Z5
	VUNPCKLPD Z23, Z21, Z6
	VUNPCKHPD Z23, Z21, Z7
	VUNPCKLPD Z26, Z24, Z8
	VUNPCKHPD Z26, Z24, Z9
	VUNPCKLPD Z27, Z25, Z10
	VUNPCKHPD Z27, Z25, Z11
	VUNPCKLPD Z30, Z28, Z12
	VUNPCKHPD Z30, Z28, Z13
	VUNPCKLPD Z31, Z29, Z14
	VUNPCKHPD Z31, Z29, Z15
	VSHUFF32X4 $0x88, Z4, Z0, Z16
	VSHUFF32X4 $0xDD, Z4, Z0, Z17
	VSHUFF32X4 $0x88, Z12, Z8, Z24
	VSHUFF32X4 $0xDD, Z12, Z8, Z25
	VSHUFF32X4 $0x88, Z5, Z1, Z18
	VSHUFF32X4 $0xDD, Z5, Z1, Z19
	VSHUFF32X4 $0x88, Z13, Z9, Z26
	VSHUFF32X4 $0xDD, Z13, Z9, Z27
	VSHUFF32X4 $0x88, Z6, Z2, Z20
	VSHUFF32X4 $0xDD, Z6, Z2, Z21
	VSHUFF32X4 $0x88, Z14, Z10, Z28
	VSHUFF32X4 $0xDD, Z14, Z10, Z29
	VSHUFF32X4 $0x88, Z7, Z3, Z22
	VSHUFF32X4 $0xDD, Z7, Z3, Z23
	VSHUFF32X4 $0x88, Z15, Z11, Z30
	VSHUFF32X4 $0xDD, Z15, Z11, Z31
	VSHUFF32X4 $0x88, Z24, Z16, Z0
	VSHUFF32X4 $0xDD, Z24, Z16, Z8
	VSHUFF32X4 $0x88, Z25, Z17, Z4
	VSHUFF32X4 $0xDD, Z25, Z17, Z12
	VSHUFF32X4 $0x88, Z26, Z18, Z1
	VSHUFF32X4 $0xDD, Z26, Z18, Z9
	VSHUFF32X4 $0x88, Z27, Z19, Z5
	VSHUFF32X4 $0xDD, Z27, Z19, Z13
	VSHUFF32X4 $0x88, Z28, Z20, Z2
	VSHUFF32X4 $0xDD, Z28, Z20, Z10
	VSHUFF32X4 $0x88, Z29, Z21, Z6
	VSHUFF32X4 $0xDD, Z29, Z21, Z14
	VSHUFF32X4 $0x88, Z30, Z22, Z3
	VSHUFF32X4 $0xDD, Z30, Z22, Z11
	VSHUFF32X4 $0x88, Z31, Z23, Z7
	VSHUFF32X4 $0xDD, Z31, Z23, Z15
	STOREZ16(DI, BX)
	VZEROUPPER
	RET

// func expShiftF32AVX512(o, x *float32, n int, scale, shift float32) float32
// (n % 16 == 0, n > 0): o = e^(x*scale - shift), returning the sum of o.
// e^a as in sigmoidF32AVX512 (a clamped below at -104, then k = round(a
// log2 e), r = a - k ln2 in two parts, Taylor polynomial of degree 7,
// times 2^k by VSCALEFPS).
TEXT ·expShiftF32AVX512(SB), NOSPLIT, $0-36
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS scale+24(FP), Z18
	VBROADCASTSS shift+28(FP), Z17
	MOVL $0x3fb8aa3b, AX
	VPBROADCASTD AX, Z21 // log2(e)
	MOVL $0x3f318000, AX
	VPBROADCASTD AX, Z22 // ln2, high part
	MOVL $0xb95e8083, AX
	VPBROADCASTD AX, Z23 // ln2, low part
	MOVL $0x39500d01, AX
	VPBROADCASTD AX, Z24 // 1/7!
	MOVL $0x3ab60b61, AX
	VPBROADCASTD AX, Z25 // 1/6!
	MOVL $0x3c088889, AX
	VPBROADCASTD AX, Z26 // 1/5!
	MOVL $0x3d2aaaab, AX
	VPBROADCASTD AX, Z27 // 1/4!
	MOVL $0x3e2aaaab, AX
	VPBROADCASTD AX, Z28 // 1/3!
	MOVL $0x3f000000, AX
	VPBROADCASTD AX, Z29 // 1/2
	MOVL $0x3f800000, AX
	VPBROADCASTD AX, Z30 // 1
	MOVL $0xc2d00000, AX
	VPBROADCASTD AX, Z31 // -104
	VPXORD Z10, Z10, Z10 // running sum
exploop:
	VMOVUPS 0(SI), Z0
	VFMSUB213PS Z17, Z18, Z0   // a = x*scale - shift
	VMAXPS Z0, Z31, Z1         // a = max(a, -104)
	VMULPS Z21, Z1, Z2
	VRNDSCALEPS $0, Z2, Z2     // k = round(a log2 e)
	VMOVAPS Z1, Z3
	VFNMADD231PS Z22, Z2, Z3   // r = a - k ln2hi
	VFNMADD231PS Z23, Z2, Z3   // r -= k ln2lo
	VMOVAPS Z24, Z4
	VFMADD213PS Z25, Z3, Z4    // Horner: p = p r + c
	VFMADD213PS Z26, Z3, Z4
	VFMADD213PS Z27, Z3, Z4
	VFMADD213PS Z28, Z3, Z4
	VFMADD213PS Z29, Z3, Z4
	VFMADD213PS Z30, Z3, Z4
	VFMADD213PS Z30, Z3, Z4    // p = e^r
	VSCALEFPS Z2, Z4, Z4       // e = p 2^k
	VMOVUPS Z4, 0(DI)
	VADDPS Z4, Z10, Z10
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNE exploop
	VEXTRACTF64X4 $1, Z10, Y11
	VADDPS Y11, Y10, Y10
	VEXTRACTF128 $1, Y10, X11
	VADDPS X11, X10, X10
	VHADDPS X10, X10, X10
	VHADDPS X10, X10, X10
	MOVSS X10, ret+32(FP)
	VZEROUPPER
	RET

// func dropoutF32AVX512(o, x *float32, n int, z0 *[16]uint64, thr uint64, keep float32)
// Dropout's per-element test, 16 elements per iteration (n % 16 == 0):
// z0 holds the 16 hash inputs base+golden*(i+1) of the first 16 elements;
// element i is kept (o = x*keep) when mix64(z)>>11 >= thr, else o = 0.
// mix64 is SplitMix64's finaliser on eight 64-bit lanes (VPMULLQ, AVX512DQ).
TEXT ·dropoutF32AVX512(SB), NOSPLIT, $0-44
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ z0+24(FP), AX
	VMOVDQU64 (AX), Z1
	VMOVDQU64 64(AX), Z10
	VPBROADCASTQ thr+32(FP), Z4
	VBROADCASTSS keep+40(FP), Y5
	MOVQ $0x9e3779b97f4a7c15, AX
	MOVQ $16, DX
	IMULQ DX, AX
	VPBROADCASTQ AX, Z0
	MOVQ $0xbf58476d1ce4e5b9, AX
	VPBROADCASTQ AX, Z2
	MOVQ $0x94d049bb133111eb, AX
	VPBROADCASTQ AX, Z3
dropoutloop:
	VPSRLQ $30, Z1, Z6
	VPSRLQ $30, Z10, Z11
	VPXORQ Z1, Z6, Z6
	VPXORQ Z10, Z11, Z11
	VPMULLQ Z2, Z6, Z6
	VPMULLQ Z2, Z11, Z11
	VPSRLQ $27, Z6, Z7
	VPSRLQ $27, Z11, Z12
	VPXORQ Z6, Z7, Z7
	VPXORQ Z11, Z12, Z12
	VPMULLQ Z3, Z7, Z7
	VPMULLQ Z3, Z12, Z12
	VPSRLQ $31, Z7, Z6
	VPSRLQ $31, Z12, Z11
	VPXORQ Z7, Z6, Z6
	VPXORQ Z12, Z11, Z11
	VPSRLQ $11, Z6, Z6
	VPSRLQ $11, Z11, Z11
	VPCMPUQ $5, Z4, Z6, K1
	VPCMPUQ $5, Z4, Z11, K2
	VMOVUPS (SI), Y8
	VMOVUPS 32(SI), Y9
	VMULPS.Z Y5, Y8, K1, Y8
	VMULPS.Z Y5, Y9, K2, Y9
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	VPADDQ Z0, Z1, Z1
	VPADDQ Z0, Z10, Z10
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ dropoutloop
	VZEROUPPER
	RET
