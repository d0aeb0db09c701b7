// Package runfolder manages a run folder — the resolved configuration, a
// metrics log, checkpoints, plots and a final summary. Progress display
// and the training loop around it live in package runner.
//
// Layout of a run folder:
//
//	config.yaml                  the resolved configuration (defaults filled in)
//	metrics.jsonl                {"step","split","metric","value","wall"} per line
//	checkpoints/latest.safetensors  resumable training checkpoint
//	model.safetensors            the final (best validated) model
//	plots/<metric>.png|.svg      learning curves, one per metric
//	summary.json                 written last: the run's results
//
// Every file except metrics.jsonl (an append-only log, trimmed back to the
// checkpoint on resume) is written atomically, so an interrupted run never
// leaves a half-written file that looks complete.
package runfolder
