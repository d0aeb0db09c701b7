// Package mt is machine translation: the evaluation metrics, the shared
// subword vocabulary, the translation models, their training and
// translation, and the evaluation of translation files and models.
//
// # Metrics (sacreBLEU 2.x defaults)
//
// BLEU (Papineni et al. 2002) and chrF (Popović 2015) are computed as
// sacreBLEU 2.x computes them by default (Post 2018, "A Call for Clarity
// in Reporting BLEU Scores"):
//
//   - BLEU: each line right-stripped and tokenised with mteval-v13a
//     (Tokenize13a); per segment the clipped n-gram matches for n = 1..4
//     (a reference n-gram counts up to its largest count in any one
//     reference), the hypothesis n-gram totals, the hypothesis length and
//     the closest reference length (ties: the shorter). Corpus BLEU sums
//     these over segments: p_n = 100 * matches_n / total_n, where a zero
//     match count gets the "exp" smoothing 100 / (2^k * total_n) for the
//     k-th such order; BP = exp(1 - r/c) when c < r (0 when c = 0);
//     BLEU = BP * exp(mean_n log p_n), with log 0 taken as -9999999999,
//     and orders with total_n = 0 ending the loop (their p_n stays 0, so
//     the score is 0 unless EffectiveOrder).
//   - chrF: whitespace removed, character n-grams of orders 1..6; per
//     segment and order the hypothesis count (0 when the reference has no
//     n-gram of that order), the reference count and the clipped matches;
//     with several references the segment keeps the statistics of its best
//     reference. The corpus score sums the statistics, averages precision
//     and recall over the orders where both sides have n-grams, and returns
//     100 (1+β²) P R / (β² P + R) with β = 2. A sentence score is the same
//     on one segment; the corpus score is not the mean of sentence scores.
//   - The non-default options (BLEU: tokenize none, floor/add-k/none
//     smoothing, effective order, lowercase; chrF: beta, word n-grams
//     (chrF++), whitespace, epsilon smoothing) follow sacreBLEU too; they
//     are what its test values need. Lowercasing uses Go's strings.ToLower,
//     which differs from Python's str.lower for a few characters (e.g. İ).
//   - An empty reference means "no reference for this segment" (a variable
//     number of references, signature nrefs:var).
//   - Signatures: BLEU's "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x",
//     chrF's "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x"
//     (version names the sacreBLEU version whose computation is
//     reproduced, not a sacreBLEU release).
//   - Bootstrap: ConfidenceInterval and Paired resample the segments'
//     statistics 1000 times (seed 12345, sacreBLEU's defaults). The CI is
//     sacreBLEU's: the mean of the resampled scores ± half the distance
//     between the sorted scores at positions n/40 and n - n/40 - 1. The
//     paired test (Koehn 2004, "Statistical Significance Tests for Machine
//     Translation Evaluation") resamples both systems with the same
//     indices; p = (1 + #{s : |d_s| - mean_s |d_s| > |d|}) / (1 + samples)
//     where d is the actual difference and d_s the resampled ones. The resample
//     indices are the ones sacreBLEU draws: NumPy's default_rng(12345)
//     (SeedSequence, PCG64, Lemire's bounded integers) reimplemented and
//     tested against NumPy's own output, so CIs and p-values match
//     sacreBLEU's up to floating-point rounding (it sums in float32).
//
// The tests check the values published in sacreBLEU's own test suite and
// README (e.g. BLEU 48.53 and chrF2 59.73 on its README example) and
// hand-worked edge cases (empty hypotheses, no matches, one-word
// references, variable references, an empty corpus is an error).
//
// # Subword vocabulary
//
// Vocab is a byte-pair-encoding vocabulary (Sennrich, Haddow & Birch
// 2016, "Neural Machine Translation of Rare Words with Subword Units")
// shared by all languages:
//
//   - Text is normalised to Unicode NFC; a space becomes the word-boundary
//     piece "▁" (U+2581) and a dummy space is put in front of the text, as
//     in SentencePiece, so words carry their leading boundary.
//   - Byte fallback: characters outside the learned character set (rarer
//     than the CharCoverage share), a literal U+2581 and invalid UTF-8 are
//     encoded as byte tokens <0x00>..<0xFF>; nothing is ever <unk>, and
//     Decode(Encode(s)) == NFC(s) for every string s (tested on every
//     lo-mt training string and on random strings and bytes, and fuzzed).
//   - Ids: 0 <pad>, 1 <s>, 2 </s>, 3 <unk> (unused), 4..259 the bytes, then
//     the characters, then one piece per merge, then the language tags
//     <2de>, ... added by AddLanguageTags (Johnson et al. 2017).
//   - TrainBPE learns the merges from language -> sentences. Languages are
//     sampled by temperature: language l gets probability ∝ n_l^(1/T)
//     (T = 5 by default), realised exactly by weighting each sentence of l
//     with p_l / (n_l / N), so small languages are not drowned. Training
//     counts every distinct word once with its weight, keeps an index from
//     each symbol pair to its positions and a max-heap of pair counts with
//     lazy deletion, and after each merge updates only the counts around
//     the merged occurrences. Ties break on the pair ids, so training is
//     deterministic; the seed only draws the subset when MaxSentences caps
//     a language.
//   - Encode applies the merges in learned order (lowest rank first) per
//     word, with a cache of encoded words.
//   - Marshal / UnmarshalVocab serialise to JSON with a version field (for
//     a model file's metadata); UnmarshalVocab validates everything and is
//     fuzzed.
//
// # Models (model.go)
//
// Model holds a ModelSpec (the architecture, versioned), the Vocab with a
// tag <2xx> per language, and the network, an nn.Seq2Seq (Transformer with
// a shared embedding tied to the output projection, sinusoidal positions):
//
//   - ArchShared is the multilingual model of Johnson et al. (2017, "Google's
//     Multilingual Neural Machine Translation System: Enabling Zero-Shot
//     Translation"): the source is <2tgt> + subwords + </s>, and everything
//     (vocabulary, embedding, encoder, decoder) is shared by all
//     directions, so one model translates en->X, X->en and, untrained,
//     X->Y (zero-shot). Trained on one pair it is the bilingual baseline.
//   - ArchSeparateDecoders is the shared + task-specific design: embedding
//     and encoder shared, one decoder stack per target language (its
//     layers and final norm), chosen by the target language. The networks
//     are one nn.Seq2Seq per target whose embedding and encoder layers are
//     the same variables, so gradients from every direction reach the
//     shared weights and decoding reuses nn's KV-cached search unchanged.
//
// Model.Save writes one safetensors file (atomically, through checkpoint):
// the weights under their Params names ("embed.weight",
// "transformer.encoder.layers.0...", and for separate decoders
// "decoder.<lang>.transformer.decoder..."), and in the metadata "format"
// (ModelFormat), "spec" (ModelSpec JSON with its version) and "vocab"
// (Vocab.Marshal). LoadModel rebuilds the model exactly and refuses, with
// the file and reason, a missing file, a non-safetensors file, another
// format, an unknown spec version or field, a missing, mis-shaped or
// non-finite tensor.
//
// # Training (train.go)
//
// Train is one run under runner.Run (the project's one training driver):
//
//   - data: the lo-mt train split of each direction (X->Y pairs joined on
//     id), optionally a seeded sample of MaxPairs; the dev split only for
//     validation; the test split never. The BPE vocabulary is trained on
//     the run's training text with languages sampled by temperature.
//   - batches: per direction, data.TokenBatches under a token budget
//     (source + target, padding included), one epoch's batches at a time
//     (seeded by the direction and the epoch); each step draws its
//     direction with probability ∝ n^(1/Temperature) from a generator
//     seeded by (seed, step), then takes that direction's next batch, so
//     small directions are not drowned and every batch has one target
//     language (what separate decoders need).
//   - optimisation: Adam (β = 0.9, 0.98, ε = 1e-9) with the warm-up +
//     inverse-square-root schedule of Vaswani et al. (2017)
//     (optim.InverseSqrt), label-smoothed token cross-entropy (Szegedy et
//     al. 2016; 0.1 by default), dropout, global-norm clipping; a step
//     with a non-finite loss or gradient is skipped and counted.
//   - validation: greedy decoding of the first ValSentences dev sentences
//     of every direction, corpus chrF per direction, their mean as the
//     metric; the driver keeps the best weights, which become
//     model.safetensors. dev.jsonl records step, minutes and chrF.
//   - exact resume: the checkpoint (checkpoint.safetensors) holds the
//     weights, Adam's moments, the best weights and, as JSON, the driver's
//     state, the sampler's cursors and epochs and the configuration; the
//     dropout streams are reseeded from (seed, step) before every step
//     (nn.Seq2Seq.Reseed). An interrupted and resumed run ends bit for bit
//     where an uninterrupted one does (TestTrainResumeExact, both
//     architectures).
//   - checkpoint averaging: with Average = N the weights at the last N
//     checkpoints are kept and their mean written as model-avg.safetensors
//     (AverageModels; Vaswani et al. 2017, sec. 6.1).
//   - ExportTokens writes the vocabulary and the tokenised data for
//     reference/mt_torch.py, the PyTorch reference of the time-to-quality
//     comparison.
//
// # Translating and evaluating models
//
// Model.Translate encodes lines for a target language, sorts them by
// length, decodes batches with nn.Greedy or nn.BeamSearch (length penalty
// of Wu et al. 2016, n-best lists) and returns the translations in input
// order. EvaluateModel translates a lo-mt split for any direction
// (zero-shot included, or through a pivot language) and scores it with
// Evaluate. Once SetTraining(false) has run, Translate only reads the
// model, so one model serves concurrent translations (package serve).
//
// # Adapting a model in memory (adapt.go)
//
// Model.Adapt is continued training (Zoph et al. 2016) without files, for
// serving a user's adaptation: it clones the model (Clone: the weights
// copied, the read-only vocabulary shared), then takes AdaptConfig.Steps
// Adam steps (β = 0.9, 0.98, constant rate, default 1e-4, gradient
// clipping at 1) on the user's pairs, one target language per step in
// turn, BatchPairs pairs per step cycling through them, dropout on and
// reseeded per step. The context is checked before every step; a
// non-finite loss, gradient or weight is ErrDiverged. The original model
// is never written (TestModelAdapt checks its weights, the falling loss
// on the pairs, cancellation and bad languages). Train with Init remains
// the file-based way to fine-tune on a corpus.
//
// # A new language from K pairs (newlang.go, adaptrun.go)
//
// SampleK draws K pairs of a language's train split with a fixed seed: a
// prefix of one seeded permutation, so the K = 100, 500, 2,000 subsets of
// one seed are nested; they never contain a dev or test id (the lo-mt
// splits are by id; TestSampleKLoMTDisjoint checks gl, eu, af).
// AdaptNewLanguage gives every method the same number of updates
// (Train.Steps, one token batch each) on the new language:
//
//   - MethodScratch: the multilingual model's architecture and vocabulary
//     (the new tag added) with random weights.
//   - MethodFinetune: the multilingual model continued on the new pairs
//     (Zoph, Yuret, May & Knight 2016, "Transfer Learning for Low-Resource
//     Neural Machine Translation"). AddLanguage appends the tag <2xx>
//     after every existing id (so the old ids keep their meaning) and
//     initialises its embedding row as the mean of the rows of the related
//     languages' tags (--tag-from, default the related language); with
//     separate decoders the new language starts from a copy of the first
//     related language's decoder. A model that already has the tag (trained
//     with Tags) keeps its row.
//   - MethodMeta: first a meta-learning stage over the model's languages
//     as tasks (Gu, Wang, Chen, Cho & Li 2018, "Meta-Learning for
//     Low-Resource Neural Machine Translation"), then the same fine-tuning.
//     MetaTrain draws MetaBatch source directions per outer step and a
//     support and a query batch of each (disjoint halves of a seeded
//     shuffle); the update rules are FOMAML (theta -= beta mean_i grad
//     L_query(phi_i)), Reptile (theta += eps mean_i (phi_i' - theta), phi'
//     after inner steps on the support then the query batch) and
//     second-order MAML (the gradient of L_query(phi(theta)) through the
//     inner steps, mamlTaskGrad). The outer loop lives here, not in
//     package meta: meta's Algorithm takes a data.Task (support and query
//     tensors) and an nn.Module, and a language task is token batches of
//     an nn.Seq2Seq, so the loop is written on explicit weights with a
//     gradient oracle (metaOuterStep) and its updates are tested against
//     hand-computed FOMAML, Reptile and MAML steps on quadratic tasks.
//     Dropout is off during the stage. Its outer steps are on the source
//     languages and come before, and on top of, the equal adaptation
//     budget (like the multilingual training itself). Memory of one outer step (two
//     languages, one inner step, the d_model 16 test model): `go test
//     ./mt -run X -bench MetaStep -benchmem` reports the bytes allocated
//     per step for fomaml and maml (second order keeps the inner
//     gradient's graph; about 3.7 times the first-order allocation there).
//   - MethodMix: fine-tuning on the new language mixed with its related
//     language (Neubig & Hu 2018, "Rapid Adaptation of Neural Machine
//     Translation to New Languages", similar-language regularisation); the
//     training sampler draws the two directions with temperature
//     Train.Temperature.
//
// AdaptRun (`metalearn mt adapt`) reads the pairs from a .po file (its
// translated, non-fuzzy entries: a project's existing translations), a
// parallel .tsv, or SampleK of lo-mt; picks the related language from a
// saved LangMap with --auto-source; runs AdaptNewLanguage; scores the
// adapted model on a lo-mt split; and writes result.json (NewLangRun). Curves groups
// the results by language, method and K and gives the mean and 95%
// t-interval over seeds (stats.MeanCI95); PlotCurves draws chrF against
// K (`metalearn mt curves`, scripts/mt_newlang.sh).
//
// # The language relationship map (langmap.go)
//
// TransferMap measures Gain[s][t]: an English -> s model is adapted to
// English -> t from K pairs, scored by dev chrF, minus the same
// adaptation from random weights (one scratch baseline per target, with
// t's own bilingual model's architecture and vocabulary; the baseline is
// constant within a column, so the ranking of sources for a target,
// which AutoSource uses, does not depend on it). LanguageAffinity measures
// the TAG affinity (Fifty et al. 2021, the formula of
// transfer.TaskAffinity) during one multilingual Train run through its
// AfterStep hook: every N steps, for each direction i, the weights shared
// by all directions take one SGD step on i's loss and Z[i][j] accumulates
// 1 - L_j(after) / L_j(before) on a fixed batch of each direction j.
// LangMap is saved as JSON (format LangMapFormat; unmeasured cells null),
// drawn with plots.Heatmap, grouped with transfer.GroupTasks on the
// symmetrised matrix, and AutoSource returns the argmax of a target's
// column among the candidate languages (the model's). `metalearn mt
// langmap` and scripts/mt_langmap.sh run it all.
//
// # Evaluating files
//
// EvaluateFiles (the `metalearn mt eval` command) reads a hypothesis file
// and reference files as plain text (one segment per line), TSV, TMX or
// gettext .po/.mo (readers in package data) and reports BLEU and chrF with
// signatures, bootstrap CIs and, with a baseline, the paired test.
// LoMTText gathers the lo-mt corpus's text per language for TrainBPE.
//
// # Filling gettext catalogues
//
// FillPO (the `metalearn mt po` command) fills the untranslated entries
// of a .po/.pot catalogue through a Translator, the one-method interface
// a translation model implements (Translate(ctx, texts, from, to)).
//
//   - Masking (Mask, Unmask): leading/trailing whitespace is set aside;
//     placeholders (printf %s %5.2f %lu %%, positional %1$d, Python
//     %(name)s, Qt %1, {0} {name} {0:N2}, $(ARG1), ${x}, $name$, $1,
//     @VAR@, LibreOffice %PRODUCTNAME), markup (tags with attributes,
//     comments), entities, the literal accelerator escapes && and ~~,
//     control characters (newline, tab) and the sentinel brackets
//     themselves become sentinels ⟦0⟧, ⟦1⟧, ... in order of appearance.
//     Unmask(Mask(s).Text) == s for every string (FuzzMask).
//   - Repairs: a sentinel the model writes with spaces inside is read; a
//     duplicate or unknown one is removed; a missing one is put back at
//     the start if it began the source, otherwise at the end before the
//     final punctuation (a line break or tab in place of the space nearest
//     its relative position); order-dependent printf conversions (%s, %d, not
//     %1$d or %(name)s) the model reordered are put back in source order
//     (the program passes the arguments in that order); invalid UTF-8
//     from the model becomes U+FFFD. FillPO writes every repair into a
//     translator comment ("# metalearn mt: machine translation repaired:
//     ..."), so no placeholder is ever lost or doubled.
//   - Accelerators: a marker of DefaultAccelerators (~ & _) counts when it
//     is the only one of its kind followed by a letter or digit. It is
//     removed before translation and put back before the first
//     word-initial occurrence of the marked letter in the translation,
//     else any occurrence, else the first letter (not CJK), else "(_O)"
//     appended, the CJK convention; the identity translation gets it back
//     where it was, and a marker the model wrote itself before a letter
//     is kept. The tests cross-check filled catalogues with GNU msgfmt
//     --check-format --check-accelerators when it is installed.
//   - Glossary (ReadGlossary: source term<TAB>target term): terms match
//     whole words, case-insensitively, the longest first; they are masked
//     and come back as the target term: all capitals if the source was,
//     a capital first letter at the start of a sentence of the
//     translation or where the source was capitalised in mid-sentence,
//     otherwise as the glossary writes it.
//   - Entries: the header, obsolete entries and translated entries (fuzzy
//     or not) are untouched, byte-identical when written; FillPO leaves
//     the header as it is (no X-Generator) and refuses a catalogue whose
//     Language is another language. Plural entries get the singular's
//     translation in msgstr[0] and the plural's in msgstr[1..n-1], n from
//     Plural-Forms (nplurals=1: the plural's); a message with no letters
//     outside placeholders gets its msgid; every filled entry is fuzzy.
//     Identical texts are translated once, in batches, with a progress
//     callback.
//
// ModelTranslator makes a trained Model a Translator (best of the beam).
//
// The tests use deterministic fake translators (word order reversed and
// upper-cased; one dropping every sentinel; one answering lo-mt's
// Galician reference) on a hand-written catalogue with every placeholder
// family, on 4,000 lo-mt strings (gl) with injected placeholders,
// markup and accelerators, and on some 10,000 messages of the German
// coreutils, git, glib, apt, dpkg and bash catalogues when installed
// (/usr/share/locale), where GNU msgfmt --check-format accepts every
// filled entry.
//
// # Demo corpus
//
// DemoPairs (and DemoCorpus, keyed "en-xx" like TrainConfig.TrainData)
// return the embedded demo corpus (mt/demodata, 332 KB): short
// lo-mt pairs, 1,000 multi-way English strings in de fr es it nl pt and
// 300 gl pairs from lo-mt's train split, 200 held-out strings in all
// seven from its dev split, none from test. The selection rule is in
// mt/demodata/README.md and in `go run ./mt/internal/mkdemo`, which
// regenerates the files (checked by TestReproducible when lo-mt is
// present); TestDemoDataChecksums checks them against SHA256SUMS. The
// data is MPL-2.0 with LibreOffice's attribution (DemoAttribution).
//
// Demo (`metalearn mt demo`) trains a tiny multilingual model on it (six
// directions, a <2gl> tag it never trains), scores en->gl greedily on the
// 200 held-out strings, continues training on AdaptPairs gl pairs from
// the pretrained model (TrainConfig.Init) and scores again, next to the
// same architecture trained on those pairs alone; demo.json keeps the
// result and demo-gl.png/.svg plots held-out chrF against steps.
package mt
