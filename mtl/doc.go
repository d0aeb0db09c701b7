// Package mtl is multi-task learning: one model trained on several tasks,
// with parameters shared across tasks and parameters specific to one task.
//
//   - Tasks (TaskSpec) are regression, binary or multi-class; a Dataset
//     carries one target column per task and a mask, so a missing label
//     contributes nothing to its task's loss or gradient. Multi-input data
//     (one dataset per task, such as School) sets RowTask so every task is
//     computed on its own rows only.
//   - Architectures implement Model: HardSharing (shared encoder + heads),
//     Additive (shared w0 + task-specific v_t, Evgeniou & Pontil 2004),
//     MMoE (Ma et al. 2018), CGC (the PLE layer, Tang et al. 2020),
//     CrossStitch (Misra et al. 2016) and, for conv encoders, MTAN (Liu et
//     al. 2019) next to LeNet-style hard sharing.
//   - Weighting strategies (weight_*.go, ByName) turn per-task losses and
//     gradients into coefficients c: the shared parameters follow the
//     gradient of sum_t c_t L_t, each task's own parameters its own L_t.
//   - Train fits a model, with optional validation-based selection, task
//     sampling for multi-input data (Sampler: round-robin, proportional,
//     temperature), periodic checkpoints and exact resume (TrainState,
//     SaveTraining / LoadTraining; weightings with hidden state implement
//     StateSaver); a model file (ModelFormat, SaveModel / LoadModel,
//     modelfile.go) holds parameters and buffers and is the one format
//     every command writes; an Experiment trains single-task baselines and
//     multi-task models and compares them with DeltaP / DeltaM.
//   - RunSchool reproduces the School benchmark; MulanExperiment,
//     CirclesExperiment, MultiMNISTExperiment and ParkinsonsExperiment
//     build the Mulan multi-target, circle-family, MultiMNIST and
//     Parkinson's telemonitoring problems; the two-objective toy problem
//     of the CAGrad / Nash-MTL papers is in toy.go (RunToyStudy is
//     `metalearn mtl toy`: every weighting from every start, plots and
//     toy.json); RunSeed is the seed example.
//   - Everything `metalearn mtl train|eval` does is one call: an
//     ExperimentSpec names a dataset (circles, mulan:<set>,
//     multimnist[:N[:M]], parkinsons:<target>), Sweep compares weightings
//     with single-task baselines over seeds (saving models and
//     Baselines), EvaluateSaved re-tests a saved model.

package mtl
