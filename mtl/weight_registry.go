package mtl

import (
	"fmt"
	"strings"
)

// WeightingNames lists the names ByName accepts, in a stable order.
var WeightingNames = []string{
	"ew", "uw", "gradnorm", "dwa", "rlw", "gls",
	"pcgrad", "gradvac", "mgda", "cagrad", "imtl",
	"nashmtl", "alignedmtl", "famo", "dbmtl", "upgrad",
}

// ByName returns the strategy called name (see WeightingNames; matching
// ignores case) with its default hyper-parameters. seed seeds the
// strategies that draw random numbers (rlw, pcgrad, gradvac) and is
// ignored by the others.
func ByName(name string, seed uint64) (Weighting, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "ew":
		return NewEW(), nil
	case "uw":
		return NewUW(), nil
	case "gradnorm":
		return NewGradNorm(), nil
	case "dwa":
		return NewDWA(), nil
	case "rlw":
		return NewRLW(seed), nil
	case "gls":
		return NewGLS(), nil
	case "pcgrad":
		return NewPCGrad(seed), nil
	case "gradvac":
		return NewGradVac(seed), nil
	case "mgda":
		return NewMGDA(), nil
	case "cagrad":
		return NewCAGrad(), nil
	case "imtl":
		return NewIMTL(), nil
	case "nashmtl":
		return NewNashMTL(), nil
	case "alignedmtl":
		return NewAlignedMTL(), nil
	case "famo":
		return NewFAMO(), nil
	case "dbmtl":
		return NewDBMTL(), nil
	case "upgrad":
		return NewUPGrad(), nil
	}
	return nil, fmt.Errorf("mtl: unknown weighting %q (valid: %s)", name, strings.Join(WeightingNames, ", "))
}
