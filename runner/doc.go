// Package runner is metalearn's one training-run driver. An algorithm
// supplies a step; Run owns everything around it:
//
//   - the budget: Steps, and optionally a wall-clock limit (MaxDuration)
//     or a work limit (MaxUnits, e.g. training tokens);
//   - validation every ValEvery steps and at the end, keeping the best
//     weights (Snapshot/Restore), with the direction taken from the
//     metric's name (HigherIsBetter: accuracy and chrF up, loss and MSE
//     down), so no caller can restore the worst weights by forgetting a
//     flag;
//   - non-finite steps: stop with the step's error, or skip and count;
//   - checkpoints: the driver's State handed to the caller's Checkpoint
//     (which adds its sampler and optimizer state and writes the file
//     atomically) every CheckpointEvery steps, at the end and on Stop;
//     Resume continues exactly, so a resumed run ends bit for bit where an
//     uninterrupted one would;
//   - stopping: Stop (OnInterrupt wires Ctrl-C to it) ends the run after
//     the current step and its checkpoint with an *Interrupted error that
//     names the checkpoint and the command that continues the run;
//   - progress: a redrawn bar with rate and ETA on a terminal, a plain line
//     every ten seconds in logs, one JSON object per step, or nothing
//     (Progress, ModeFor).
//
// meta.Train and mtl.Train are steps plus a Config; a sequence-to-sequence
// trainer with a token budget and chrF validation on a development set
// fits the same way (see the Example).
//
// The package sits below the capabilities (meta, mtl, transfer, mt): it
// knows tensors, not models.
package runner
