package mt

import "math/bits"

// The bootstrap draws its resample indices exactly as sacreBLEU does,
// with NumPy's default generator: np.random.default_rng(seed) is PCG64
// (O'Neill 2014, XSL-RR 128/64 output) seeded through SeedSequence, and
// Generator.choice(n, size, replace=True) draws each index with Lemire's
// bounded method on 32-bit outputs (the low half of a 64-bit output first,
// then the high half). The constants below are those algorithms'
// published parameters.

// seedSequenceState is NumPy's SeedSequence(seed).generate_state(4,
// uint64): the entropy words hashed into a pool of four 32-bit words, then
// eight output words.
func seedSequenceState(seed uint64) [4]uint64 {
	const (
		initA, multA = 0x43b0d7e5, 0x931e8875
		initB, multB = 0x8b51f9dd, 0x58f38ded
		mixL, mixR   = 0xca01f9dd, 0x4973f715
		xshift       = 16
	)
	entropy := []uint32{uint32(seed)}
	if seed>>32 != 0 {
		entropy = append(entropy, uint32(seed>>32))
	}
	hashConst := uint32(initA)
	hashmix := func(v uint32) uint32 {
		v ^= hashConst
		hashConst *= multA
		v *= hashConst
		return v ^ v>>xshift
	}
	mix := func(x, y uint32) uint32 {
		r := mixL*x - mixR*y
		return r ^ r>>xshift
	}
	var pool [4]uint32
	for i := range pool {
		if i < len(entropy) {
			pool[i] = hashmix(entropy[i])
		} else {
			pool[i] = hashmix(0)
		}
	}
	for src := range pool {
		for dst := range pool {
			if src != dst {
				pool[dst] = mix(pool[dst], hashmix(pool[src]))
			}
		}
	}
	var words [8]uint32
	hashConst = initB
	for i := range words {
		v := pool[i%4]
		v ^= hashConst
		hashConst *= multB
		v *= hashConst
		words[i] = v ^ v>>xshift
	}
	var out [4]uint64
	for i := range out {
		out[i] = uint64(words[2*i]) | uint64(words[2*i+1])<<32
	}
	return out
}

// pcg64 is NumPy's PCG64 bit generator with its 32-bit output buffer.
type pcg64 struct {
	hi, lo, incHi, incLo uint64
	hasU32               bool
	u32                  uint32
}

const pcgMultHi, pcgMultLo = 2549297995355413924, 4865540595714422341

func newNumPyPCG64(seed uint64) *pcg64 {
	s := seedSequenceState(seed)
	p := &pcg64{}
	// inc = (initseq << 1) | 1 with initseq = s[2]:s[3] (high:low).
	p.incHi = s[2]<<1 | s[3]>>63
	p.incLo = s[3]<<1 | 1
	p.step()
	var c uint64
	p.lo, c = bits.Add64(p.lo, s[1], 0)
	p.hi, _ = bits.Add64(p.hi, s[0], c)
	p.step()
	return p
}

func (p *pcg64) step() {
	h, l := bits.Mul64(p.lo, pcgMultLo)
	h += p.lo*pcgMultHi + p.hi*pcgMultLo
	var c uint64
	p.lo, c = bits.Add64(l, p.incLo, 0)
	p.hi, _ = bits.Add64(h, p.incHi, c)
}

func (p *pcg64) next64() uint64 {
	p.step()
	return bits.RotateLeft64(p.hi^p.lo, -int(p.hi>>58))
}

func (p *pcg64) next32() uint32 {
	if p.hasU32 {
		p.hasU32 = false
		return p.u32
	}
	v := p.next64()
	p.hasU32, p.u32 = true, uint32(v>>32)
	return uint32(v)
}

// intN is Generator.integers(0, n) for 1 <= n <= 2^32 - 1 (Lemire's
// method on 32-bit draws; n = 1 draws nothing).
func (p *pcg64) intN(n uint32) int {
	rng := n - 1
	if rng == 0 {
		return 0
	}
	m := uint64(p.next32()) * uint64(n)
	if left := uint32(m); left < n {
		threshold := (^uint32(0) - rng) % n
		for left < threshold {
			m = uint64(p.next32()) * uint64(n)
			left = uint32(m)
		}
	}
	return int(m >> 32)
}
