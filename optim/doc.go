// Package optim provides first-order optimizers (SGD with momentum and
// Nesterov, Adam, AdamW), learning-rate schedules and gradient clipping.
//
// Optimizers update leaf Vars in place from their accumulated Grad (filled
// by Var.Backward), or from explicitly supplied gradients with StepWith (as
// returned by autodiff.Grad). Their state (step count, moment buffers) can be
// saved and restored exactly, so a resumed run continues bit for bit.
package optim
