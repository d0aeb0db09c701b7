//go:build amd64 && !purego

#include "textflag.h"

// func sgemmNarrowAVX512(m, k int, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, c unsafe.Pointer, ldc int, mask int, acc bool)
//
// C (+)= A*B for all m rows of a product at most 16 columns wide (the
// columns kept by mask), in one call: the direct kernels' arithmetic (per
// row, FMA from zero in increasing p; then c = AB or c = c + AB), four rows
// at a time. k >= 1. Leading dimensions are in elements.
TEXT ·sgemmNarrowAVX512(SB), NOSPLIT, $0-73
	MOVQ m+0(FP), R11
	MOVQ k+8(FP), R12
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), R9
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R8
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), BX
	MOVQ mask+64(FP), AX
	MOVBLZX acc+72(FP), R13
	SHLQ $2, R9
	SHLQ $2, R8
	SHLQ $2, BX
	KMOVW AX, K1

narrow_rows4:
	CMPQ R11, $4
	JLT narrow_rows1
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ SI, R14
	LEAQ (SI)(R9*2), R10
	MOVQ DI, R15
	MOVQ R12, CX

narrow_k4:
	VMOVUPS.Z (R15), K1, Z8
	VBROADCASTSS (R14), Z9
	VBROADCASTSS (R14)(R9*1), Z10
	VBROADCASTSS (R10), Z11
	VBROADCASTSS (R10)(R9*1), Z12
	VFMADD231PS Z9, Z8, Z0
	VFMADD231PS Z10, Z8, Z1
	VFMADD231PS Z11, Z8, Z2
	VFMADD231PS Z12, Z8, Z3
	ADDQ $4, R14
	ADDQ $4, R10
	ADDQ R8, R15
	DECQ CX
	JNE narrow_k4

	TESTQ R13, R13
	JEQ narrow_store4
	LEAQ (DX)(BX*2), R10
	VMOVUPS.Z (DX), K1, Z8
	VADDPS Z8, Z0, Z0
	VMOVUPS.Z (DX)(BX*1), K1, Z9
	VADDPS Z9, Z1, Z1
	VMOVUPS.Z (R10), K1, Z10
	VADDPS Z10, Z2, Z2
	VMOVUPS.Z (R10)(BX*1), K1, Z11
	VADDPS Z11, Z3, Z3

narrow_store4:
	LEAQ (DX)(BX*2), R10
	VMOVUPS Z0, K1, (DX)
	VMOVUPS Z1, K1, (DX)(BX*1)
	VMOVUPS Z2, K1, (R10)
	VMOVUPS Z3, K1, (R10)(BX*1)
	LEAQ (SI)(R9*4), SI
	LEAQ (DX)(BX*4), DX
	SUBQ $4, R11
	JMP narrow_rows4

narrow_rows1:
	TESTQ R11, R11
	JEQ narrow_done
	VPXORD Z0, Z0, Z0
	MOVQ SI, R14
	MOVQ DI, R15
	MOVQ R12, CX

narrow_k1:
	VMOVUPS.Z (R15), K1, Z8
	VBROADCASTSS (R14), Z9
	VFMADD231PS Z9, Z8, Z0
	ADDQ $4, R14
	ADDQ R8, R15
	DECQ CX
	JNE narrow_k1

	TESTQ R13, R13
	JEQ narrow_store1
	VMOVUPS.Z (DX), K1, Z8
	VADDPS Z8, Z0, Z0

narrow_store1:
	VMOVUPS Z0, K1, (DX)
	ADDQ R9, SI
	ADDQ BX, DX
	DECQ R11
	JMP narrow_rows1

narrow_done:
	VZEROUPPER
	RET
