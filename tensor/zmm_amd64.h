// Shared by the AVX-512 kernels (simd_amd64.s, wino_amd64.s).

// LOADZ16 loads Z0..Z15 from 16 rows of 64 bytes, s bytes apart, from p
// (p ends at the last row).
#define LOADZ16(p, s) \
	VMOVUPS (p), Z0; \
	ADDQ s, p \
	VMOVUPS (p), Z1; \
	ADDQ s, p \
	VMOVUPS (p), Z2; \
	ADDQ s, p \
	VMOVUPS (p), Z3; \
	ADDQ s, p \
	VMOVUPS (p), Z4; \
	ADDQ s, p \
	VMOVUPS (p), Z5; \
	ADDQ s, p \
	VMOVUPS (p), Z6; \
	ADDQ s, p \
	VMOVUPS (p), Z7; \
	ADDQ s, p \
	VMOVUPS (p), Z8; \
	ADDQ s, p \
	VMOVUPS (p), Z9; \
	ADDQ s, p \
	VMOVUPS (p), Z10; \
	ADDQ s, p \
	VMOVUPS (p), Z11; \
	ADDQ s, p \
	VMOVUPS (p), Z12; \
	ADDQ s, p \
	VMOVUPS (p), Z13; \
	ADDQ s, p \
	VMOVUPS (p), Z14; \
	ADDQ s, p \
	VMOVUPS (p), Z15

// STOREZ16 stores Z0..Z15 to 16 rows, s bytes apart, from p (p ends at
// the last row).
#define STOREZ16(p, s) \
	VMOVUPS Z0, (p); \
	ADDQ s, p \
	VMOVUPS Z1, (p); \
	ADDQ s, p \
	VMOVUPS Z2, (p); \
	ADDQ s, p \
	VMOVUPS Z3, (p); \
	ADDQ s, p \
	VMOVUPS Z4, (p); \
	ADDQ s, p \
	VMOVUPS Z5, (p); \
	ADDQ s, p \
	VMOVUPS Z6, (p); \
	ADDQ s, p \
	VMOVUPS Z7, (p); \
	ADDQ s, p \
	VMOVUPS Z8, (p); \
	ADDQ s, p \
	VMOVUPS Z9, (p); \
	ADDQ s, p \
	VMOVUPS Z10, (p); \
	ADDQ s, p \
	VMOVUPS Z11, (p); \
	ADDQ s, p \
	VMOVUPS Z12, (p); \
	ADDQ s, p \
	VMOVUPS Z13, (p); \
	ADDQ s, p \
	VMOVUPS Z14, (p); \
	ADDQ s, p \
	VMOVUPS Z15, (p)
