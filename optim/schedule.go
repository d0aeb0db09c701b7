package optim

import "math"

// Schedule returns the learning rate for a (0-based) step.
type Schedule func(step int) float64

// Constant keeps the learning rate at lr.
func Constant(lr float64) Schedule { return func(int) float64 { return lr } }

// StepDecay multiplies lr by gamma every stepSize steps (torch StepLR).
func StepDecay(lr float64, stepSize int, gamma float64) Schedule {
	if stepSize < 1 {
		stepSize = 1
	}
	return func(step int) float64 { return lr * math.Pow(gamma, float64(step/stepSize)) }
}

// Cosine anneals from lr to minLR over total steps following half a cosine
// (Loshchilov & Hutter 2017, without restarts), after warmup steps of linear
// warm-up from 0; it stays at minLR after total.
func Cosine(lr, minLR float64, total, warmup int) Schedule {
	return func(step int) float64 {
		if step < warmup {
			return lr * float64(step+1) / float64(warmup)
		}
		if step >= total {
			return minLR
		}
		t := float64(step-warmup) / float64(max(total-warmup, 1))
		return minLR + 0.5*(lr-minLR)*(1+math.Cos(math.Pi*t))
	}
}

// Linear anneals linearly from lr to endLR over total steps (Reptile's
// outer step size schedule).
func Linear(lr, endLR float64, total int) Schedule {
	return func(step int) float64 {
		if step >= total {
			return endLR
		}
		return lr + (endLR-lr)*float64(step)/float64(total)
	}
}

// InverseSqrt is the Transformer schedule of Vaswani et al. (2017, eq. 3)
// with its peak made explicit: a linear warm-up to lr over warmup steps,
// then decay with the inverse square root of the step,
//
//	lr(s) = lr * min((s+1)/warmup, sqrt(warmup/(s+1)))
//
// for the 0-based step s (the paper's d_model^-0.5 * min(n^-0.5,
// n*warmup^-1.5) with n = s+1 is this with lr = (d_model*warmup)^-0.5).
// warmup < 1 is taken as 1 (no warm-up).
func InverseSqrt(lr float64, warmup int) Schedule {
	w := float64(max(warmup, 1))
	return func(step int) float64 {
		n := float64(step + 1)
		return lr * math.Min(n/w, math.Sqrt(w/n))
	}
}
