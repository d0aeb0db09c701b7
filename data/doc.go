// Package data provides the datasets and task distributions of metalearn:
// file readers, class-organised image datasets, few-shot episode samplers
// and synthetic task families.
//
// # Tasks
//
// A Task (task.go) is one few-shot problem: a support set to adapt on and a
// query set to evaluate on. A TaskDistribution draws tasks from a
// *rand.Rand; the same generator state gives the same task. EvalSet draws a
// fixed, seeded list of tasks, so evaluation can use the same episodes
// across runs.
//
// Task families:
//
//   - Sinusoid: MAML's sinusoid regression, y = A sin(x - phase) with
//     A ~ U[0.1, 5], phase ~ U[0, pi], x ~ U[-5, 5]; X/Y float32 [n, 1].
//     SampleWithParams also returns A and phase, and Points evaluates a
//     sinusoid on a given grid (see Linspace).
//   - CircleFamily: random circles in the unit square (centre
//     U[0.25, 0.75]^2, radius U[0.15, 0.45]), label 1 outside; binary
//     classification with float32 0/1 targets Y [n, 1] (Labels nil, Ways 0).
//   - Episodic: N-way K-shot classification episodes from a ClassDataset,
//     class-major, labels 0..N-1 in random class order.
//
// The seed example's fixed circle task is Circle / SeedCircle, with Split
// for a train/test split.
//
// # Image datasets
//
// ClassDataset holds images as a float32 tensor [N, C, H, W] plus the
// image indices of each class and the class names. Subset selects classes,
// WithRotations (and the more general Rotate) adds rotated copies of every
// class as new classes, ConcatClassDatasets joins two datasets.
//
// Omniglot loaders all give [N, 1, size, size] images with ink = 1 and
// background = 0, resized from 105 x 105 by area averaging
// (ResizeArea):
//
//   - LoadOmniglotNPZ reads the npz repacking of ../shared/data/omniglot
//     (names "Alphabet/characterNN" from alphabets.tsv when it is present);
//     LoadOmniglotAll joins images_background.npz and images_evaluation.npz
//     into the 1,623 characters.
//   - LoadOmniglotDir and LoadOmniglotZip read the official distribution
//     (root/Alphabet/characterNN/*.png, or the official zips such as
//     images_background.zip, from github.com/brendenlake/omniglot/python).
//   - VinyalsSplit reads the Vinyals et al. split files
//     ("Alphabet/characterNN/rotDDD" per line), SplitDataset builds a split's
//     dataset and LoadOmniglotVinyals does both: 1028/172/423 characters x 4
//     rotations. MAMLSplit makes MAML's random 1,200 / 423 character split,
//     each part augmented with rotations.
//
// # NumPy files
//
// ReadNPY, LoadNPY and ReadNPZ read .npy (format 1.0, 2.0, 3.0;
// little-endian, C order; bool, uint8, int32, int64, float32, float64) and
// .npz files into an Array. Every reader and loader reports bad input as an
// error naming the file, member, class or value; none panics on bad files.
// # Tabular and multi-task data
//
//   - ReadCSV reads numeric CSV with a header (errors name file, line and
//     column); LoadSchool gives the School data as TaskRegression (one task
//     per school); LoadParkinsons the Parkinson's telemonitoring recordings
//     (one task per patient, motor and total UPDRS targets).
//   - ReadARFF / ParseARFF read ARFF (numeric, nominal, sparse rows, missing
//     values); LoadMulan splits a Mulan multi-target set into features and
//     its last MulanTargets[name] attributes as targets, with a mask.
//   - ReadIDX and LoadMNIST read the MNIST/Fashion-MNIST IDX files (gzipped
//     or not); MakeMultiMNIST builds Sener & Koltun's two-digit MultiMNIST.
//
// # Parallel text (translation)
//
// Every reader returns Segments (source, target, and the id, context and
// line where the format has them) and reports bad input as a *ParseError
// naming the file, line and reason; each is fuzzed.
//
//   - ParsePO / ReadPO read gettext catalogues: msgctxt, msgid,
//     msgid_plural, msgstr[n], flags (fuzzy, c-format, ...), translator and
//     extracted comments, references, previous msgids (#|), C escapes
//     (\n \t \" \\, octal, hex), multi-line strings, obsolete (#~) entries,
//     the header and its Plural-Forms (whose nplurals every plural entry
//     must match). WritePO writes gettext's layout; reading it back gives
//     the same entries (byte-identical for a file in that layout).
//     POFile.Segments gives the translated entries (msgid -> msgstr[0]).
//   - ParseMO / ReadMO read compiled .mo catalogues of either byte order
//     (context as msgctxt\x04msgid, plurals split on NUL); WriteMO writes
//     one (for tests and tools).
//   - ParseTMX / ReadTMX read TMX 1.4 translation memories with
//     encoding/xml: <tu> (tuid) with <tuv xml:lang> variants. Inline codes
//     (<bpt>, <ept>, <ph>, <it>, <ut> and their <sub>) are removed with
//     their content by default, so a segment is its translatable text;
//     TMXOptions.KeepCodes keeps their native code (e.g. "<b>") as text;
//     <hi> text is always kept. TMXPairs picks src -> tgt pairs ("en"
//     matches "en-US").
//   - ParseMoses / ReadMoses pair line-aligned files (x.en + x.de; the line
//     counts must match); ParseParallelTSV reads src<TAB>tgt or
//     id<TAB>src<TAB>tgt; ReadLines reads one segment per line.
//   - LoadLoMT reads a lo-mt file (../shared/data/lo-mt: LibreOffice UI and
//     help, id<TAB>en<TAB>xx, train/dev/test); LoadLoMTMultiWay joins
//     languages on id and LoadLoMTPair gives any direction, X->Y (e.g.
//     de->fr zero-shot references) by the join.
//
// # Token batches
//
// TokenBatches (seqbatch.go) groups SeqPairs of token ids into padded
// SeqBatches (nn.Tokens for source and target) under a token budget
// counting padded source + target positions (fairseq's --max-tokens):
// pairs sorted by length (the longer side, then source, then target;
// ties in a seeded order) are cut into consecutive batches, and the batch
// order is shuffled with the seed. Deterministic for a seed; on lo-mt
// en-de with whitespace tokens 4.1% of a 4,096-token batch is padding.
package data
