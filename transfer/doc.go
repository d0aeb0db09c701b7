// Package transfer is knowledge transfer between tasks and domains:
// fine-tuning strategies from a saved source model, transfer-gain reports
// against training from scratch, inter-task affinity and task grouping for
// multi-task learning, pairwise transfer matrices, and unsupervised domain
// adaptation (CORAL, MMD) on cross-domain benchmarks.
//
// # Fine-tuning
//
// A model is an nn.Sequential; its layers are the top-level children that
// hold parameters (Layers), the last one being the head. FineTune adapts a
// model holding source weights (LoadSource, which lists every mismatching
// tensor when a checkpoint does not fit) to a Target with a Strategy:
//
//   - Full: every layer trains.
//   - Freeze (FreezeK): the first k layers stay bit-identical, in evaluation mode.
//   - Probe: the head only (linear probe on frozen features).
//   - Discriminative (LayerLRDecay): layer l of L trains with LR*decay^(L-1-l)
//     (Howard & Ruder 2018, ULMFiT).
//   - L2SP (L2SPAlpha, L2SPBeta): Omega(w) = alpha/2 ||w_S - w_S^0||^2 +
//     beta/2 ||w_head||^2 (Li, Grandvalet & Davoine 2018).
//   - Scratch: the no-transfer baseline (no source weights loaded).
//
// Training keeps the parameters with the best validation accuracy and stops
// after Config.Patience validations without improvement.
//
// # Reports
//
// GainReport runs scratch and every strategy on 1, 5, 10, ..., all labelled
// target examples per class over several seeds (paired: same sample and head
// initialisation per seed) and reports mean test accuracy with a 95% t
// confidence interval, the paired gain over scratch, and flags negative
// transfer (gain + CI < 0). TransferMatrix trains a source model on every
// task and fine-tunes it on every other task. Both plot to PNG and SVG and
// marshal to JSON.
//
// # Task relationships
//
// TaskAffinity measures the lookahead inter-task affinity of TAG (Fifty et
// al. 2021) during mtl.Train; GroupTasks searches every partition of the
// tasks into k groups for the highest total within-group affinity; and
// CheckGroupings trains the candidate groupings to see whether the
// recommendation holds.
//
// # Domain adaptation
//
// CrossDomain runs the Office-Caltech10 protocol of Sun, Feng & Saenko 2016
// over every source -> target pair: nearest neighbour, source-only logistic
// regression, CORAL (whitening with the source covariance, re-colouring with
// the target covariance), an MMD-regularised network (Gretton et al. 2012;
// Long et al. 2015) and fine-tuning on a few labelled target examples.
// Covariances and matrix square roots use gonum's symmetric
// eigendecomposition in float64.
//
// # The CLI's runs as library calls
//
// Everything `metalearn transfer` does is one call here (load.go, run.go,
// command.go, folder.go): a Loader resolves dataset specs (office:<domain>,
// omniglot:<Alphabet>, omniglot:background|evaluation); AutoArch,
// ParseShots, ParseStrategies and Relabel read the rest of the settings;
// Pretrain, Finetune, RunMatrix and RunAffinity are the pretrain,
// finetune, matrix and affinity runs (CrossDomain is domain). Each
// command's settings are an Options type (PretrainOptions, ...,
// DomainOptions: NewCommand by name) that binds its flags (names,
// defaults, help), checks them and runs, writing its JSON, plots and
// report; the CLI binds and calls Run, and RunFolder runs a command from
// flag-named options into a run folder (a `kind: transfer` configuration
// of `metalearn train -c`).
package transfer
