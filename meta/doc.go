// Package meta is metalearn's meta-learning: a model is meta-trained on a
// distribution of tasks so that it learns a new task from a few examples.
//
// Gradient-based methods learn an initialisation that adapts in a few
// gradient steps:
//
//   - MAML (Finn et al. 2017) with true second-order meta-gradients, and
//     first-order MAML;
//   - ANIL (Raghu et al. 2020): only the head adapts in the inner loop;
//   - Meta-SGD (Li et al. 2017): learned per-parameter inner learning rates;
//   - MAML++ options (Antoniou et al. 2019): learned per-layer per-step inner
//     learning rates and the multi-step loss;
//   - Reptile (Nichol et al. 2018).
//
// Metric-based methods learn an embedding in which a new class is
// recognised from its examples: Prototypical Networks (Snell et al. 2017)
// and a differentiable closed-form ridge-regression head (R2D2, Bertinetto
// et al. 2019).
//
// Every algorithm implements Algorithm: for one task it returns the
// (pseudo-)gradient of its meta-objective with respect to its
// meta-parameters. One table (algorithms.go, AlgorithmByName) names every
// algorithm with its constructor and outer-loop defaults. Train's step
// averages the gradients over a meta-batch of tasks, processed in
// parallel, and applies an outer optimizer; the loop around the steps
// (budget, validation and best-keeping, checkpoints and resume, stopping,
// progress) is package runner's. Run is a whole run as the CLI performs
// it; Evaluate reports a mean with a 95% confidence interval over many
// test tasks. Gradient-based algorithms own their adaptation (Adapter),
// which the model server calls.
//
// Files: spec.go (the experiment schema, defaults and validation),
// build.go (Build), checkpoint.go (model files), resume.go (training
// checkpoints), tasks.go (task distributions and the Omniglot cache),
// algorithms.go (the table), train.go (Train), run.go (Run), evalrun.go
// (EvaluateCheckpoint), adapt.go (Adapter).
//
// The Learner type is the building block in the spirit of learn2learn's
// clone()/adapt(loss): a model plus a list of (fast) weights that an inner
// loop replaces functionally, leaving the meta-parameters untouched.
package meta
