//go:build ignore

// This program generates gemm_amd64.s, the assembly behind the matrix
// multiply (see gemm.go). Run it with
//
//	go generate ./tensor
//
// (see the go:generate line in gemm_amd64.go). It emits:
//
//   - packed micro-kernels, func(kc int, a, b, c unsafe.Pointer, ldc int,
//     acc bool): the MR x NR tile AB = A*B, where a is an MR-row micro-panel
//     packed k-major (a[p*MR+i]) and b an NR-column micro-panel packed
//     k-major (b[p*NR+j]), both kc steps long. The products are accumulated
//     with FMA in registers from zero, in increasing p, and the tile is then
//     written to c (row-major, leading dimension ldc elements): c = AB when
//     acc is false, c = c + AB when it is true. AVX-512: 12x32 float32 and
//     12x16 float64 (24 accumulators); AVX2: 6x16 and 6x8 (12 accumulators).
//   - direct (unpacked) AVX-512 kernels for 1..12 rows that read A and B in
//     place and mask the ragged columns, with the same arithmetic;
//   - A-panel packing (4x4 in-register transposes) and a vector add.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

type kernel struct {
	name   string
	f64    bool // float64 elements (else float32)
	zmm    bool // AVX-512 (else AVX2)
	mr     int  // rows of the tile
	nv     int  // vectors per row of the tile
	unroll int  // k steps per loop iteration
}

func (k kernel) es() int { // element size
	if k.f64 {
		return 8
	}
	return 4
}

func (k kernel) vb() int { // vector bytes
	if k.zmm {
		return 64
	}
	return 32
}

func (k kernel) nr() int { return k.nv * k.vb() / k.es() }

func (k kernel) sfx() string {
	if k.f64 {
		return "PD"
	}
	return "PS"
}

func (k kernel) reg(i int) string {
	if k.zmm {
		return fmt.Sprintf("Z%d", i)
	}
	return fmt.Sprintf("Y%d", i)
}

var out bytes.Buffer

func emit(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }

func label(l string) { fmt.Fprintf(&out, "%s:\n", l) }

func gen(k kernel) {
	es, vb, mr, nv := k.es(), k.vb(), k.mr, k.nv
	nr := k.nr()
	nacc := mr * nv
	bReg := nacc // B vectors: nacc .. nacc+nv-1
	tReg := nacc + nv
	nregs := 16
	if k.zmm {
		nregs = 32
	}
	ntmp := nregs - tReg
	if ntmp < 1 {
		log.Fatalf("%s: not enough registers", k.name)
	}
	bcast := "VBROADCASTSS"
	if k.f64 {
		bcast = "VBROADCASTSD"
	}
	acc := func(i, v int) string { return k.reg(i*nv + v) }

	fmt.Fprintf(&out, "// func %s(kc int, a, b, c unsafe.Pointer, ldc int, acc bool)\n", k.name)
	fmt.Fprintf(&out, "// %dx%d tile of %s with %s.\n", mr, nr, map[bool]string{false: "float32", true: "float64"}[k.f64],
		map[bool]string{false: "AVX2+FMA", true: "AVX-512F"}[k.zmm])
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-41\n", k.name)
	emit("MOVQ kc+0(FP), CX")
	emit("MOVQ a+8(FP), SI")
	emit("MOVQ b+16(FP), DI")
	emit("MOVQ c+24(FP), DX")
	emit("MOVQ ldc+32(FP), BX")
	emit("SHLQ $%d, BX", map[int]int{4: 2, 8: 3}[es])
	// Prefetch the C tile; it is read (acc) or written after the loop.
	emit("MOVQ DX, R8")
	for i := 0; i < mr; i++ {
		for off := 0; off < nr*es; off += 64 {
			emit("PREFETCHT0 %d(R8)", off)
		}
		if i < mr-1 {
			emit("ADDQ BX, R8")
		}
	}
	for i := 0; i < nacc; i++ {
		if k.zmm {
			emit("VPXORD %s, %s, %s", k.reg(i), k.reg(i), k.reg(i))
		} else {
			emit("VXOR%s %s, %s, %s", k.sfx(), k.reg(i), k.reg(i), k.reg(i))
		}
	}
	tmp := 0
	step := func(o int) {
		aOff, bOff := o*mr*es, o*nr*es
		for v := 0; v < nv; v++ {
			emit("VMOVUP%s %d(DI), %s", k.sfx()[1:], bOff+v*vb, k.reg(bReg+v))
		}
		for i := 0; i < mr; i++ {
			t := k.reg(tReg + tmp%ntmp)
			tmp++
			emit("%s %d(SI), %s", bcast, aOff+i*es, t)
			for v := 0; v < nv; v++ {
				emit("VFMADD231%s %s, %s, %s", k.sfx(), t, k.reg(bReg+v), acc(i, v))
			}
		}
	}
	u := k.unroll
	emit("CMPQ CX, $%d", u)
	emit("JLT %s_tail", k.name)
	label(k.name + "_loop")
	for o := 0; o < u; o++ {
		step(o)
	}
	emit("ADDQ $%d, SI", u*mr*es)
	emit("ADDQ $%d, DI", u*nr*es)
	emit("SUBQ $%d, CX", u)
	emit("CMPQ CX, $%d", u)
	emit("JGE %s_loop", k.name)
	label(k.name + "_tail")
	emit("TESTQ CX, CX")
	emit("JEQ %s_store", k.name)
	label(k.name + "_tail1")
	step(0)
	emit("ADDQ $%d, SI", mr*es)
	emit("ADDQ $%d, DI", nr*es)
	emit("DECQ CX")
	emit("JNE %s_tail1", k.name)
	label(k.name + "_store")
	emit("MOVBLZX acc+40(FP), AX")
	emit("TESTL AX, AX")
	emit("JEQ %s_overwrite", k.name)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			emit("VADD%s %d(DX), %s, %s", k.sfx(), v*vb, acc(i, v), acc(i, v))
			emit("VMOVUP%s %s, %d(DX)", k.sfx()[1:], acc(i, v), v*vb)
		}
		if i < mr-1 {
			emit("ADDQ BX, DX")
		}
	}
	emit("VZEROUPPER")
	emit("RET")
	label(k.name + "_overwrite")
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			emit("VMOVUP%s %s, %d(DX)", k.sfx()[1:], acc(i, v), v*vb)
		}
		if i < mr-1 {
			emit("ADDQ BX, DX")
		}
	}
	emit("VZEROUPPER")
	emit("RET")
	out.WriteString("\n")
}

// genPack emits func name(kc int, a unsafe.Pointer, lda int, dst unsafe.Pointer),
// which packs one full mr-row micro-panel of a row-major A (leading dimension
// lda elements) over kc steps: dst[p*mr+i] = a[i*lda+p]. Rows are handled in
// quads with 4x4 in-register transposes (and a final pair when mr%4 == 2),
// using AVX only.
func genPack(name string, f64 bool, mr int) {
	es, vl, sfx, mov := 4, 8, "PS", "VMOVSS"
	if f64 {
		es, vl, sfx, mov = 8, 4, "PD", "VMOVSD"
	}
	if mr%4 != 0 && mr%4 != 2 || mr > 12 {
		log.Fatalf("%s: unsupported mr %d", name, mr)
	}
	bases := []string{"SI", "R9", "R10"}
	row := func(r, off int) string { // address of row r at byte offset off
		b := bases[r/4]
		switch r % 4 {
		case 1:
			return fmt.Sprintf("%d(%s)(BX*1)", off, b)
		case 2:
			return fmt.Sprintf("%d(%s)(BX*2)", off, b)
		case 3:
			return fmt.Sprintf("%d(%s)(R8*1)", off, b)
		}
		return fmt.Sprintf("%d(%s)", off, b)
	}
	dst := func(p, r int) int { return (p*mr + r) * es } // byte offset in dst
	fmt.Fprintf(&out, "// func %s(kc int, a unsafe.Pointer, lda int, dst unsafe.Pointer)\n", name)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-32\n", name)
	emit("MOVQ kc+0(FP), CX")
	emit("MOVQ a+8(FP), SI")
	emit("MOVQ lda+16(FP), BX")
	emit("MOVQ dst+24(FP), DI")
	emit("SHLQ $%d, BX", map[int]int{4: 2, 8: 3}[es])
	emit("LEAQ (BX)(BX*2), R8")
	emit("LEAQ (SI)(BX*4), R9")
	emit("LEAQ (R9)(BX*4), R10")
	emit("CMPQ CX, $%d", vl)
	emit("JLT %s_tail", name)
	label(name + "_loop")
	for q := 0; q+4 <= mr; q += 4 {
		for i := 0; i < 4; i++ {
			emit("VMOVUP%s %s, Y%d", sfx[1:], row(q+i, 0), i)
		}
		if !f64 {
			emit("VUNPCKLPS Y1, Y0, Y4")
			emit("VUNPCKHPS Y1, Y0, Y5")
			emit("VUNPCKLPS Y3, Y2, Y6")
			emit("VUNPCKHPS Y3, Y2, Y7")
			emit("VUNPCKLPD Y6, Y4, Y0")
			emit("VUNPCKHPD Y6, Y4, Y1")
			emit("VUNPCKLPD Y7, Y5, Y2")
			emit("VUNPCKHPD Y7, Y5, Y3")
			for s := 0; s < 4; s++ {
				emit("VMOVUPS X%d, %d(DI)", s, dst(s, q))
				emit("VEXTRACTF128 $1, Y%d, %d(DI)", s, dst(s+4, q))
			}
		} else {
			emit("VUNPCKLPD Y1, Y0, Y4")
			emit("VUNPCKHPD Y1, Y0, Y5")
			emit("VUNPCKLPD Y3, Y2, Y6")
			emit("VUNPCKHPD Y3, Y2, Y7")
			emit("VPERM2F128 $0x20, Y6, Y4, Y0")
			emit("VPERM2F128 $0x20, Y7, Y5, Y1")
			emit("VPERM2F128 $0x31, Y6, Y4, Y2")
			emit("VPERM2F128 $0x31, Y7, Y5, Y3")
			for s := 0; s < 4; s++ {
				emit("VMOVUPD Y%d, %d(DI)", s, dst(s, q))
			}
		}
	}
	if r := mr &^ 3; mr%4 == 2 {
		emit("VMOVUP%s %s, Y0", sfx[1:], row(r, 0))
		emit("VMOVUP%s %s, Y1", sfx[1:], row(r+1, 0))
		if !f64 {
			emit("VUNPCKLPS Y1, Y0, Y4")
			emit("VUNPCKHPS Y1, Y0, Y5")
			emit("VEXTRACTF128 $1, Y4, X6")
			emit("VEXTRACTF128 $1, Y5, X7")
			for h, regs := range [][2]int{{4, 5}, {6, 7}} {
				emit("VMOVLPS X%d, %d(DI)", regs[0], dst(4*h+0, r))
				emit("VMOVHPS X%d, %d(DI)", regs[0], dst(4*h+1, r))
				emit("VMOVLPS X%d, %d(DI)", regs[1], dst(4*h+2, r))
				emit("VMOVHPS X%d, %d(DI)", regs[1], dst(4*h+3, r))
			}
		} else {
			emit("VUNPCKLPD Y1, Y0, Y4")
			emit("VUNPCKHPD Y1, Y0, Y5")
			emit("VMOVUPD X4, %d(DI)", dst(0, r))
			emit("VMOVUPD X5, %d(DI)", dst(1, r))
			emit("VEXTRACTF128 $1, Y4, %d(DI)", dst(2, r))
			emit("VEXTRACTF128 $1, Y5, %d(DI)", dst(3, r))
		}
	}
	for _, b := range bases[:(mr+3)/4] {
		emit("ADDQ $%d, %s", vl*es, b)
	}
	emit("ADDQ $%d, DI", vl*mr*es)
	emit("SUBQ $%d, CX", vl)
	emit("CMPQ CX, $%d", vl)
	emit("JGE %s_loop", name)
	label(name + "_tail")
	emit("TESTQ CX, CX")
	emit("JEQ %s_done", name)
	label(name + "_tail1")
	for r := 0; r < mr; r++ {
		emit("%s %s, X%d", mov, row(r, 0), r%8)
		emit("%s X%d, %d(DI)", mov, r%8, dst(0, r))
	}
	for _, b := range bases[:(mr+3)/4] {
		emit("ADDQ $%d, %s", es, b)
	}
	emit("ADDQ $%d, DI", mr*es)
	emit("DECQ CX")
	emit("JNE %s_tail1", name)
	label(name + "_done")
	emit("VZEROUPPER")
	emit("RET")
	out.WriteString("\n")
}

// genDirect emits func name(kc int, a unsafe.Pointer, lda int, b unsafe.Pointer,
// ldb int, c unsafe.Pointer, ldc int, mask int, acc bool), an AVX-512 kernel
// for a rows x (2 vectors) tile that reads A and B in place (no packing):
// A is row-major with leading dimension lda, B row-major with ldb. The low
// bits of mask select the valid columns (one bit per element); masked-out
// lanes of B and C are neither read nor written, so the tile may hang over
// the right edge of the matrices. The arithmetic is the packed kernels':
// an FMA chain from zero in increasing p, then c = AB or c = c + AB.
func genDirect(name string, f64 bool, rows int) {
	k := kernel{f64: f64, zmm: true, mr: rows, nv: 2}
	es, sfx := k.es(), k.sfx()
	lanes := 64 / es
	bcast := "VBROADCASTSS"
	if f64 {
		bcast = "VBROADCASTSD"
	}
	acc := func(i, v int) string { return fmt.Sprintf("Z%d", 2*i+v) }
	bases := []string{"SI", "R11", "R12"}
	arow := func(i, off int) string {
		b := bases[i/4]
		switch i % 4 {
		case 1:
			return fmt.Sprintf("%d(%s)(R9*1)", off, b)
		case 2:
			return fmt.Sprintf("%d(%s)(R9*2)", off, b)
		case 3:
			return fmt.Sprintf("%d(%s)(R10*1)", off, b)
		}
		return fmt.Sprintf("%d(%s)", off, b)
	}
	fmt.Fprintf(&out, "// func %s(kc int, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, c unsafe.Pointer, ldc int, mask int, acc bool)\n", name)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-65\n", name)
	emit("MOVQ kc+0(FP), CX")
	emit("MOVQ a+8(FP), SI")
	emit("MOVQ lda+16(FP), R9")
	emit("MOVQ b+24(FP), DI")
	emit("MOVQ ldb+32(FP), R8")
	emit("MOVQ c+40(FP), DX")
	emit("MOVQ ldc+48(FP), BX")
	emit("MOVQ mask+56(FP), AX")
	sh := map[int]int{4: 2, 8: 3}[es]
	emit("SHLQ $%d, R9", sh)
	emit("SHLQ $%d, R8", sh)
	emit("SHLQ $%d, BX", sh)
	emit("LEAQ (R9)(R9*2), R10")
	if rows > 4 {
		emit("LEAQ (SI)(R9*4), R11")
	}
	if rows > 8 {
		emit("LEAQ (R11)(R9*4), R12")
	}
	emit("KMOVW AX, K1")
	emit("SHRQ $%d, AX", lanes)
	emit("KMOVW AX, K2")
	for i := 0; i < 2*rows; i++ {
		emit("VPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	tmp := 0
	step := func(o int) {
		emit("VMOVUP%s.Z (DI), K1, Z24", sfx[1:])
		emit("VMOVUP%s.Z 64(DI), K2, Z25", sfx[1:])
		emit("ADDQ R8, DI")
		for i := 0; i < rows; i++ {
			t := fmt.Sprintf("Z%d", 26+tmp%6)
			tmp++
			emit("%s %s, %s", bcast, arow(i, o*es), t)
			emit("VFMADD231%s %s, Z24, %s", sfx, t, acc(i, 0))
			emit("VFMADD231%s %s, Z25, %s", sfx, t, acc(i, 1))
		}
	}
	advance := func(n int) {
		for _, b := range bases[:(rows+3)/4] {
			emit("ADDQ $%d, %s", n*es, b)
		}
	}
	const u = 4
	emit("CMPQ CX, $%d", u)
	emit("JLT %s_tail", name)
	label(name + "_loop")
	for o := 0; o < u; o++ {
		step(o)
	}
	advance(u)
	emit("SUBQ $%d, CX", u)
	emit("CMPQ CX, $%d", u)
	emit("JGE %s_loop", name)
	label(name + "_tail")
	emit("TESTQ CX, CX")
	emit("JEQ %s_store", name)
	label(name + "_tail1")
	step(0)
	advance(1)
	emit("DECQ CX")
	emit("JNE %s_tail1", name)
	label(name + "_store")
	emit("MOVBLZX acc+64(FP), AX")
	emit("TESTL AX, AX")
	emit("JEQ %s_overwrite", name)
	for i := 0; i < rows; i++ {
		for v := 0; v < 2; v++ {
			kr := fmt.Sprintf("K%d", v+1)
			emit("VMOVUP%s.Z %d(DX), %s, Z26", sfx[1:], 64*v, kr)
			emit("VADD%s Z26, %s, %s", sfx, acc(i, v), acc(i, v))
			emit("VMOVUP%s %s, %s, %d(DX)", sfx[1:], acc(i, v), kr, 64*v)
		}
		if i < rows-1 {
			emit("ADDQ BX, DX")
		}
	}
	emit("VZEROUPPER")
	emit("RET")
	label(name + "_overwrite")
	for i := 0; i < rows; i++ {
		for v := 0; v < 2; v++ {
			emit("VMOVUP%s %s, K%d, %d(DX)", sfx[1:], acc(i, v), v+1, 64*v)
		}
		if i < rows-1 {
			emit("ADDQ BX, DX")
		}
	}
	emit("VZEROUPPER")
	emit("RET")
	out.WriteString("\n")
}

// genAdd emits func name(dst, src unsafe.Pointer, n int): dst[i] += src[i]
// for i < n, with AVX (32 bytes per step, then scalars).
func genAdd(name string, f64 bool) {
	es, sfx, mov := 4, "PS", "VMOVSS"
	add := "VADDSS"
	if f64 {
		es, sfx, mov, add = 8, "PD", "VMOVSD", "VADDSD"
	}
	per := 32 / es
	fmt.Fprintf(&out, "// func %s(dst, src unsafe.Pointer, n int)\n", name)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-24\n", name)
	emit("MOVQ dst+0(FP), DI")
	emit("MOVQ src+8(FP), SI")
	emit("MOVQ n+16(FP), CX")
	emit("CMPQ CX, $%d", 4*per)
	emit("JLT %s_one", name)
	label(name + "_four")
	for v := 0; v < 4; v++ {
		emit("VMOVUP%s %d(SI), Y%d", sfx[1:], 32*v, v)
	}
	for v := 0; v < 4; v++ {
		emit("VADD%s %d(DI), Y%d, Y%d", sfx, 32*v, v, v)
	}
	for v := 0; v < 4; v++ {
		emit("VMOVUP%s Y%d, %d(DI)", sfx[1:], v, 32*v)
	}
	emit("ADDQ $128, SI")
	emit("ADDQ $128, DI")
	emit("SUBQ $%d, CX", 4*per)
	emit("CMPQ CX, $%d", 4*per)
	emit("JGE %s_four", name)
	label(name + "_one")
	emit("CMPQ CX, $%d", per)
	emit("JLT %s_tail", name)
	emit("VMOVUP%s (SI), Y0", sfx[1:])
	emit("VADD%s (DI), Y0, Y0", sfx)
	emit("VMOVUP%s Y0, (DI)", sfx[1:])
	emit("ADDQ $32, SI")
	emit("ADDQ $32, DI")
	emit("SUBQ $%d, CX", per)
	emit("JMP %s_one", name)
	label(name + "_tail")
	emit("TESTQ CX, CX")
	emit("JEQ %s_done", name)
	emit("%s (DI), X0", mov)
	emit("%s (SI), X0, X0", add)
	emit("%s X0, (DI)", mov)
	emit("ADDQ $%d, SI", es)
	emit("ADDQ $%d, DI", es)
	emit("DECQ CX")
	emit("JMP %s_tail", name)
	label(name + "_done")
	emit("VZEROUPPER")
	emit("RET")
	out.WriteString("\n")
}

func main() {
	out.WriteString("// Code generated by gemm_asm_gen.go; DO NOT EDIT.\n\n")
	out.WriteString("//go:build amd64 && !purego\n\n")
	out.WriteString("#include \"textflag.h\"\n\n")
	for _, k := range []kernel{
		{name: "sgemmKernelAVX512", zmm: true, mr: 12, nv: 2, unroll: 4},
		{name: "dgemmKernelAVX512", f64: true, zmm: true, mr: 12, nv: 2, unroll: 4},
		{name: "sgemmKernelAVX2", mr: 6, nv: 2, unroll: 4},
		{name: "dgemmKernelAVX2", f64: true, mr: 6, nv: 2, unroll: 4},
	} {
		gen(k)
	}
	genPack("packA12F32", false, 12)
	genPack("packA12F64", true, 12)
	genPack("packA6F32", false, 6)
	genPack("packA6F64", true, 6)
	genAdd("addToF32", false)
	genAdd("addToF64", true)
	for r := 1; r <= 12; r++ {
		genDirect(fmt.Sprintf("sgemmDirectAVX512R%d", r), false, r)
		genDirect(fmt.Sprintf("dgemmDirectAVX512R%d", r), true, r)
	}
	if err := os.WriteFile("gemm_amd64.s", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
