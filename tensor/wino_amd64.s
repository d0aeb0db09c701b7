//go:build amd64 && !purego

#include "textflag.h"
#include "zmm_amd64.h"

// Winograd F(2x2, 3x3) transforms for planes at most 14 wide (one padded
// row of 16 lanes); see winograd.go for the layout and the arithmetic.

// even | odd columns of the padded row: padded column p is lane p-1 of a
// row loaded as is, padded column 0 is lane 15 (zero: w <= 14)
DATA winoA<>+0(SB)/4, $15
DATA winoA<>+4(SB)/4, $1
DATA winoA<>+8(SB)/4, $3
DATA winoA<>+12(SB)/4, $5
DATA winoA<>+16(SB)/4, $7
DATA winoA<>+20(SB)/4, $9
DATA winoA<>+24(SB)/4, $11
DATA winoA<>+28(SB)/4, $13
DATA winoA<>+32(SB)/4, $0
DATA winoA<>+36(SB)/4, $2
DATA winoA<>+40(SB)/4, $4
DATA winoA<>+44(SB)/4, $6
DATA winoA<>+48(SB)/4, $8
DATA winoA<>+52(SB)/4, $10
DATA winoA<>+56(SB)/4, $12
DATA winoA<>+60(SB)/4, $14
GLOBL winoA<>(SB), RODATA|NOPTR, $64

// the padded columns two to the right: even | odd (lanes 7, 15 unused)
DATA winoB<>+0(SB)/4, $1
DATA winoB<>+4(SB)/4, $3
DATA winoB<>+8(SB)/4, $5
DATA winoB<>+12(SB)/4, $7
DATA winoB<>+16(SB)/4, $9
DATA winoB<>+20(SB)/4, $11
DATA winoB<>+24(SB)/4, $13
DATA winoB<>+28(SB)/4, $0
DATA winoB<>+32(SB)/4, $2
DATA winoB<>+36(SB)/4, $4
DATA winoB<>+40(SB)/4, $6
DATA winoB<>+44(SB)/4, $8
DATA winoB<>+48(SB)/4, $10
DATA winoB<>+52(SB)/4, $12
DATA winoB<>+56(SB)/4, $14
DATA winoB<>+60(SB)/4, $0
GLOBL winoB<>(SB), RODATA|NOPTR, $64

// 0, 1, ..., 15
DATA ramp16<>+0(SB)/4, $0
DATA ramp16<>+4(SB)/4, $1
DATA ramp16<>+8(SB)/4, $2
DATA ramp16<>+12(SB)/4, $3
DATA ramp16<>+16(SB)/4, $4
DATA ramp16<>+20(SB)/4, $5
DATA ramp16<>+24(SB)/4, $6
DATA ramp16<>+28(SB)/4, $7
DATA ramp16<>+32(SB)/4, $8
DATA ramp16<>+36(SB)/4, $9
DATA ramp16<>+40(SB)/4, $10
DATA ramp16<>+44(SB)/4, $11
DATA ramp16<>+48(SB)/4, $12
DATA ramp16<>+52(SB)/4, $13
DATA ramp16<>+56(SB)/4, $14
DATA ramp16<>+60(SB)/4, $15
GLOBL ramp16<>(SB), RODATA|NOPTR, $64

// even | odd columns of an unpadded row
DATA winoEO<>+0(SB)/4, $0
DATA winoEO<>+4(SB)/4, $2
DATA winoEO<>+8(SB)/4, $4
DATA winoEO<>+12(SB)/4, $6
DATA winoEO<>+16(SB)/4, $8
DATA winoEO<>+20(SB)/4, $10
DATA winoEO<>+24(SB)/4, $12
DATA winoEO<>+28(SB)/4, $14
DATA winoEO<>+32(SB)/4, $1
DATA winoEO<>+36(SB)/4, $3
DATA winoEO<>+40(SB)/4, $5
DATA winoEO<>+44(SB)/4, $7
DATA winoEO<>+48(SB)/4, $9
DATA winoEO<>+52(SB)/4, $11
DATA winoEO<>+56(SB)/4, $13
DATA winoEO<>+60(SB)/4, $15
GLOBL winoEO<>(SB), RODATA|NOPTR, $64

// interleave the low halves of two registers: a0 b0 a1 b1 ...
DATA winoI<>+0(SB)/4, $0
DATA winoI<>+4(SB)/4, $16
DATA winoI<>+8(SB)/4, $1
DATA winoI<>+12(SB)/4, $17
DATA winoI<>+16(SB)/4, $2
DATA winoI<>+20(SB)/4, $18
DATA winoI<>+24(SB)/4, $3
DATA winoI<>+28(SB)/4, $19
DATA winoI<>+32(SB)/4, $4
DATA winoI<>+36(SB)/4, $20
DATA winoI<>+40(SB)/4, $5
DATA winoI<>+44(SB)/4, $21
DATA winoI<>+48(SB)/4, $6
DATA winoI<>+52(SB)/4, $22
DATA winoI<>+56(SB)/4, $7
DATA winoI<>+60(SB)/4, $23
GLOBL winoI<>(SB), RODATA|NOPTR, $64

// WINOST stores the 8 values of y at DX and moves DX one matrix on.
#define WINOST(y) \
	VMOVUPS y, (DX); \
	ADDQ R8, DX

// WINOLD loads the tw values (mask K1) at DX into z and moves DX one
// matrix on.
#define WINOLD(z) \
	VMOVUPS.Z (DX), K1, z; \
	ADDQ R8, DX

// WINOCOLS applies B^T to the columns of row-transformed register t and
// stores its four results (8 lanes each, tw of them tiles: the rest land
// on the next tile row's place, written later, or on the padding at the
// end of the matrix row) at DX, DX+R8, DX+2*R8, DX+3*R8, leaving DX four
// matrices on. Z8, Z9: winoA, winoB; clobbers Z10-Z14.
#define WINOCOLS(t) \
	VPERMPS t, Z8, Z10; \
	VPERMPS t, Z9, Z11; \
	VSHUFF32X4 $0x4E, Z10, Z10, Z12; \
	VSUBPS Z11, Z10, Z13; \
	WINOST(Y13); \
	VADDPS Z11, Z12, Z14; \
	WINOST(Y14); \
	VSUBPS Z12, Z11, Z14; \
	WINOST(Y14); \
	VSHUFF32X4 $0x4E, Z13, Z13, Z14; \
	WINOST(Y14)

// WINOSETUP turns a plane kernel's arguments (CX: w, R8: the matrices'
// stride in elements) into R8 in bytes, K2: w columns, K1: tw = (w+1)/2
// tiles, R11: bytes per tile row in the transformed matrices, R12: bytes
// per plane row; clobbers AX, R9.
#define WINOSETUP \
	SHLQ $2, R8; \
	MOVQ $1, AX; \
	SHLXQ CX, AX, R9; \
	DECQ R9; \
	KMOVW R9, K2; \
	MOVQ CX, R11; \
	INCQ R11; \
	SHRQ $1, R11; \
	SHLXQ R11, AX, R9; \
	DECQ R9; \
	KMOVW R9, K1; \
	SHLQ $2, R11; \
	MOVQ CX, R12; \
	SHLQ $2, R12

// WINOTAP gathers the next tap of 16 filters (indices Z16, stepped by Z17
// after) into z.
#define WINOTAP(z) \
	KXNORW K1, K1, K1; \
	VGATHERDPS (SI)(Z16*4), K1, z; \
	VPADDD Z17, Z16, Z16

// WINOGT stores row (r0, r1, r2) of Gg times G^T: r0, ((r0+r1)+r2)/2,
// ((r0-r1)+r2)/2, r2 at DI, DI+R8, ..., leaving DI four matrices on.
// Z15: 0.5; clobbers Z17, Z18.
#define WINOGT(r0, r1, r2) \
	VMOVUPS r0, (DI); \
	ADDQ R8, DI; \
	VADDPS r1, r0, Z17; \
	VADDPS r2, Z17, Z17; \
	VMULPS Z15, Z17, Z17; \
	VMOVUPS Z17, (DI); \
	ADDQ R8, DI; \
	VSUBPS r1, r0, Z18; \
	VADDPS r2, Z18, Z18; \
	VMULPS Z15, Z18, Z18; \
	VMOVUPS Z18, (DI); \
	ADDQ R8, DI; \
	VMOVUPS r2, (DI); \
	ADDQ R8, DI

// func winoInputAVX512(x *float32, h, w int, v *float32, vstride int)
// Input tiles of one plane x [h, w] (1 <= w <= 14, h >= 1), zero-padded by
// one on every side: tile (tr, tc) of transform element xi = 4k+l goes to
// v[xi*vstride + tr*tw + tc], tw = (w+1)/2; each tile row writes 8 values
// (8 - tw past its end).
TEXT ·winoInputAVX512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ h+8(FP), R10
	MOVQ w+16(FP), CX
	MOVQ v+24(FP), DI
	MOVQ vstride+32(FP), R8
	WINOSETUP
	VMOVDQU32 winoA<>(SB), Z8
	VMOVDQU32 winoB<>(SB), Z9
	VPXORD Z0, Z0, Z0             // row -1 (padding)
	VMOVUPS.Z (SI), K2, Z1        // row 0
	ADDQ R12, SI
	MOVQ $1, R13                  // next row to load
wiloop:
	CMPQ R13, R10
	JGE wizero2
	VMOVUPS.Z (SI), K2, Z2
	ADDQ R12, SI
	JMP wigot2
wizero2:
	VPXORD Z2, Z2, Z2
wigot2:
	INCQ R13
	CMPQ R13, R10
	JGE wizero3
	VMOVUPS.Z (SI), K2, Z3
	ADDQ R12, SI
	JMP wigot3
wizero3:
	VPXORD Z3, Z3, Z3
wigot3:
	INCQ R13
	VSUBPS Z2, Z0, Z4             // d0 - d2
	VADDPS Z2, Z1, Z5             // d1 + d2
	VSUBPS Z1, Z2, Z6             // d2 - d1
	VSUBPS Z3, Z1, Z7             // d1 - d3
	MOVQ DI, DX
	WINOCOLS(Z4)
	WINOCOLS(Z5)
	WINOCOLS(Z6)
	WINOCOLS(Z7)
	ADDQ R11, DI
	VMOVAPS Z2, Z0
	VMOVAPS Z3, Z1
	CMPQ R13, R10
	JLE wiloop
	VZEROUPPER
	RET

// func winoOutputAVX512(m *float32, mstride int, y *float32, h, w int, bias float32)
// Output plane y [h, w] (1 <= w <= 14) from the transformed products: tile
// (tr, tc) of element xi at m[xi*mstride + tr*tw + tc]; bias added last.
TEXT ·winoOutputAVX512(SB), NOSPLIT, $0-44
	MOVQ m+0(FP), SI
	MOVQ mstride+8(FP), R8
	MOVQ y+16(FP), DI
	MOVQ h+24(FP), R10
	MOVQ w+32(FP), CX
	VBROADCASTSS bias+40(FP), Z15
	WINOSETUP
	VMOVDQU32 winoI<>(SB), Z9
	MOVQ $0, R13                  // output row 2*tr
woloop:
	MOVQ SI, DX
	WINOLD(Z16)
	WINOLD(Z17)
	WINOLD(Z18)
	WINOLD(Z19)
	WINOLD(Z20)
	WINOLD(Z21)
	WINOLD(Z22)
	WINOLD(Z23)
	WINOLD(Z24)
	WINOLD(Z25)
	WINOLD(Z26)
	WINOLD(Z27)
	WINOLD(Z28)
	WINOLD(Z29)
	WINOLD(Z30)
	VMOVUPS.Z (DX), K1, Z31
	// rows: s0 = m0 + (m1 + m2), s1 = (m1 - m2) - m3, per column l
	VADDPS Z24, Z20, Z0
	VADDPS Z25, Z21, Z1
	VADDPS Z26, Z22, Z2
	VADDPS Z27, Z23, Z3
	VSUBPS Z24, Z20, Z4
	VSUBPS Z25, Z21, Z5
	VSUBPS Z26, Z22, Z6
	VSUBPS Z27, Z23, Z7
	VADDPS Z0, Z16, Z0
	VADDPS Z1, Z17, Z1
	VADDPS Z2, Z18, Z2
	VADDPS Z3, Z19, Z3
	VSUBPS Z28, Z4, Z4
	VSUBPS Z29, Z5, Z5
	VSUBPS Z30, Z6, Z6
	VSUBPS Z31, Z7, Z7
	// columns: y0 = s_0 + (s_1 + s_2), y1 = (s_1 - s_2) - s_3
	VADDPS Z2, Z1, Z10
	VSUBPS Z2, Z1, Z11
	VADDPS Z10, Z0, Z12
	VSUBPS Z3, Z11, Z13
	VADDPS Z6, Z5, Z10
	VSUBPS Z6, Z5, Z11
	VADDPS Z10, Z4, Z14
	VSUBPS Z7, Z11, Z11
	VPERMT2PS Z13, Z9, Z12
	VADDPS Z15, Z12, Z12
	VMOVUPS Z12, K2, (DI)
	INCQ R13
	CMPQ R13, R10
	JGE wodone
	VPERMT2PS Z11, Z9, Z14
	VADDPS Z15, Z14, Z14
	VMOVUPS Z14, K2, (DI)(R12*1)
	INCQ R13
	LEAQ (DI)(R12*2), DI
	ADDQ R11, SI
	CMPQ R13, R10
	JLT woloop
wodone:
	VZEROUPPER
	RET

// func winoWeightsAVX512(w *float32, fstride int, flip bool, u *float32, ustride int)
// Transformed filters G g G^T of 16 filters, filter f at w[f*fstride]
// (flip: its taps in reverse order), element xi of filter f to
// u[xi*ustride + f]; winoFilter's arithmetic, lane by lane.
TEXT ·winoWeightsAVX512(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ fstride+8(FP), AX
	MOVBLZX flip+16(FP), BX
	MOVQ u+24(FP), DI
	MOVQ ustride+32(FP), R8
	SHLQ $2, R8
	VPBROADCASTD AX, Z16
	VPMULLD ramp16<>(SB), Z16, Z16   // f*fstride
	MOVL $0x3f000000, AX
	VPBROADCASTD AX, Z15             // 0.5
	// tap t of filter f at f*fstride + t, or + 8-t when flipped: the
	// index vector steps by +1 or -1 from tap to tap
	MOVL $1, AX
	TESTQ BX, BX
	JZ wwstep
	ADDQ $32, SI
	NEGL AX
wwstep:
	VPBROADCASTD AX, Z17
	WINOTAP(Z0)
	WINOTAP(Z1)
	WINOTAP(Z2)
	WINOTAP(Z3)
	WINOTAP(Z4)
	WINOTAP(Z5)
	WINOTAP(Z6)
	WINOTAP(Z7)
	WINOTAP(Z8)
	// Gg: row 1 = ((g0+g1)+g2)/2, row 2 = ((g0-g1)+g2)/2 per column j
	VADDPS Z3, Z0, Z9
	VADDPS Z6, Z9, Z9
	VMULPS Z15, Z9, Z9
	VADDPS Z4, Z1, Z10
	VADDPS Z7, Z10, Z10
	VMULPS Z15, Z10, Z10
	VADDPS Z5, Z2, Z11
	VADDPS Z8, Z11, Z11
	VMULPS Z15, Z11, Z11
	VSUBPS Z3, Z0, Z12
	VADDPS Z6, Z12, Z12
	VMULPS Z15, Z12, Z12
	VSUBPS Z4, Z1, Z13
	VADDPS Z7, Z13, Z13
	VMULPS Z15, Z13, Z13
	VSUBPS Z5, Z2, Z14
	VADDPS Z8, Z14, Z14
	VMULPS Z15, Z14, Z14
	WINOGT(Z0, Z1, Z2)
	WINOGT(Z9, Z10, Z11)
	WINOGT(Z12, Z13, Z14)
	WINOGT(Z6, Z7, Z8)
	VZEROUPPER
	RET

// WINOGCOLS applies A to the columns of row-combined register t (A dY
// A^T's second factor): per tile, e, e+o, e-o, -o of its even and odd
// columns, stored like WINOCOLS (8 lanes each) at DX, DX+R8, ..., leaving
// DX four matrices on. Z8: winoEO, Z9: zero; clobbers Z10-Z14.
#define WINOGCOLS(t) \
	VPERMPS t, Z8, Z10; \
	VSHUFF32X4 $0x4E, Z10, Z10, Z11; \
	WINOST(Y10); \
	VADDPS Z11, Z10, Z12; \
	WINOST(Y12); \
	VSUBPS Z11, Z10, Z13; \
	WINOST(Y13); \
	VSUBPS Z11, Z9, Z14; \
	WINOST(Y14)

// func winoGradAVX512(dy *float32, h, w int, v *float32, vstride int)
// The output-gradient tiles of one plane dy [h, w] (1 <= w <= 14), for the
// Winograd weight gradient: A dY A^T per 2x2 block (values past the plane
// count as 0), element xi = 4k+l of tile (tr, tc) to v[xi*vstride +
// tr*tw + tc], 8 values per tile row as winoInputAVX512 writes them.
// A = [1 0; 1 1; 1 -1; 0 -1].
TEXT ·winoGradAVX512(SB), NOSPLIT, $0-40
	MOVQ dy+0(FP), SI
	MOVQ h+8(FP), R10
	MOVQ w+16(FP), CX
	MOVQ v+24(FP), DI
	MOVQ vstride+32(FP), R8
	WINOSETUP
	VMOVDQU32 winoEO<>(SB), Z8
	VPXORD Z9, Z9, Z9
	MOVQ $0, R13                  // row 2*tr
wgloop:
	VMOVUPS.Z (SI), K2, Z0        // row 2tr
	INCQ R13
	CMPQ R13, R10
	JGE wgzero
	VMOVUPS.Z (SI)(R12*1), K2, Z1 // row 2tr+1
	JMP wggot
wgzero:
	VPXORD Z1, Z1, Z1
wggot:
	INCQ R13
	VADDPS Z1, Z0, Z5             // y0 + y1
	VSUBPS Z1, Z0, Z6             // y0 - y1
	VSUBPS Z1, Z9, Z7             // -y1
	MOVQ DI, DX
	WINOGCOLS(Z0)
	WINOGCOLS(Z5)
	WINOGCOLS(Z6)
	WINOGCOLS(Z7)
	ADDQ R11, DI
	LEAQ (SI)(R12*2), SI
	CMPQ R13, R10
	JLT wgloop
	VZEROUPPER
	RET

// WINOGT3 is one G^T step on four registers: x = a + s, y = t, z = s + d
// with s = (b+c)/2, t = (b-c)/2. Z31: 0.5; clobbers Z28.
#define WINOGT3(a, b, c, d, x, y, z) \
	VADDPS c, b, Z28; \
	VMULPS Z31, Z28, Z28; \
	VSUBPS c, b, y; \
	VMULPS Z31, y, y; \
	VADDPS Z28, a, x; \
	VADDPS d, Z28, z

// func winoGradWeightsAVX512(du *float32, stride int, out *float32)
// G^T dU G for 16 filters: element xi of filter f at du[xi*stride + f],
// tap t of filter f to out[t*16 + f]; winoGradWeights' arithmetic, lane
// by lane.
TEXT ·winoGradWeightsAVX512(SB), NOSPLIT, $0-24
	MOVQ du+0(FP), SI
	MOVQ stride+8(FP), AX
	SHLQ $2, AX
	MOVQ out+16(FP), DI
	MOVL $0x3f000000, BX
	VPBROADCASTD BX, Z31          // 0.5
	LOADZ16(SI, AX)
	// rows (G^T dU): per column l, R[k][l] in Z16+4k+l
	WINOGT3(Z0, Z4, Z8, Z12, Z16, Z20, Z24)
	WINOGT3(Z1, Z5, Z9, Z13, Z17, Z21, Z25)
	WINOGT3(Z2, Z6, Z10, Z14, Z18, Z22, Z26)
	WINOGT3(Z3, Z7, Z11, Z15, Z19, Z23, Z27)
	// columns (R G): row k gives taps 3k, 3k+1, 3k+2
	WINOGT3(Z16, Z17, Z18, Z19, Z0, Z1, Z2)
	WINOGT3(Z20, Z21, Z22, Z23, Z3, Z4, Z5)
	WINOGT3(Z24, Z25, Z26, Z27, Z6, Z7, Z8)
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VZEROUPPER
	RET
