package main

import (
	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/transfer"
)

func newTransferCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transfer",
		Short: "Knowledge transfer: fine-tuning strategies, transfer gain, task affinity and grouping, domain adaptation",
		Long: `Knowledge transfer between tasks and domains.

  pretrain   train a source model on a dataset and save it (safetensors + architecture)
  finetune   transfer-gain report: strategies vs scratch over shot counts and seeds
  matrix     pairwise transfer matrix (train on A, fine-tune on B, compare with scratch on B)
  affinity   inter-task affinity (TAG lookahead) during multi-task training, grouping, check
  domain     cross-domain recognition on Office-Caltech10 (source-only, CORAL, MMD, fine-tuning)

Datasets (--data, --target): office:<A|C|D|W> (Office-Caltech10 SURF, CORAL
preprocessing), omniglot:<Alphabet> (one alphabet, e.g. omniglot:Latin),
omniglot:background / omniglot:evaluation (every character of the set), read
from --data-dir (default ../shared/data). --out DIR writes JSON plus PNG/SVG plots.`,
	}
	cmd.AddCommand(newTransferPretrainCmd(), newTransferFinetuneCmd(), newTransferMatrixCmd(), newTransferAffinityCmd(), newTransferDomainCmd())
	return cmd
}

// transferCmd is one transfer subcommand: the flags of c (package
// transfer holds their names, defaults and checks) plus --json, and c.Run.
func transferCmd(cmd *cobra.Command, c transfer.Command, jsonUsage string) *cobra.Command {
	var asJSON bool
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return c.Run(transfer.Output{W: cmd.OutOrStdout(), JSON: asJSON, Progress: cmd.ErrOrStderr()})
	}
	c.Bind(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, jsonUsage)
	return cmd
}

func newTransferPretrainCmd() *cobra.Command {
	return transferCmd(&cobra.Command{
		Use:   "pretrain",
		Short: "Train a source model on a dataset and save it for fine-tuning",
		Example: `  metalearn transfer pretrain --data omniglot:background --max-classes 200 --arch conv4:32 --out src.safetensors
  metalearn transfer pretrain --data office:amazon --arch mlp:128 --out amazon.safetensors`,
	}, &transfer.PretrainOptions{}, "print one JSON line")
}

func newTransferFinetuneCmd() *cobra.Command {
	return transferCmd(&cobra.Command{
		Use:   "finetune",
		Short: "Transfer-gain report: fine-tuning strategies vs training from scratch over shot counts and seeds",
		Long: `Fine-tunes a source model (written by 'transfer pretrain') on a target task
with each strategy, and trains the same architecture from scratch, on 1, 5,
10, ... labelled target examples per class, for several seeds; reports mean
test accuracy with 95% confidence intervals and the paired gain over
scratch, and flags negative transfer (worse than scratch beyond the CI).

Strategies: full, freeze:K (first K layers fixed; bare "freeze" = half),
probe (head only), discriminative[:decay] (per-layer learning rates,
default 1/2.6), l2sp[:alpha[:beta]] (L2-SP, default 0.01:0.01). Layers are
the model's top-level children with parameters (conv4: 4 conv + 4
BatchNorm + head = 9; mlp:H = 2).`,
		Example: `  metalearn transfer finetune --source src.safetensors --target omniglot:Angelic --shots 1,5,10,all --seeds 5 --out results/gain`,
	}, &transfer.FinetuneOptions{}, "print the report as one JSON line")
}

func newTransferMatrixCmd() *cobra.Command {
	return transferCmd(&cobra.Command{
		Use:   "matrix",
		Short: "Pairwise transfer matrix: train on A, fine-tune on B, compare with scratch on B",
		Example: `  metalearn transfer matrix --dataset omniglot --tasks Latin,Greek,Cyrillic,Korean,Bengali --shots 5 --seeds 3 --out results/alphabets
  metalearn transfer matrix --dataset office --tasks A,C,D,W --shots 3`,
	}, &transfer.MatrixOptions{}, "print the matrix as one JSON line")
}

func newTransferAffinityCmd() *cobra.Command {
	return transferCmd(&cobra.Command{
		Use:   "affinity",
		Short: "Inter-task affinity (TAG lookahead) during multi-task training, task grouping, and a check by training the groups",
		Long: `Measures the inter-task affinity of Fifty et al. 2021 (TAG): during
multi-task training, after a step on task i's loss alone (shared parameters
only), Z[i->j] = 1 - L_j(after)/L_j(before), averaged over training. Then
recommends the partition of the tasks into --groups groups with the highest
total within-group affinity (exhaustive search), and with --check trains
every candidate grouping (all partitions when there are at most --max-all,
else the recommended, the worst and --random random ones) and ranks them by
Delta_p against training all tasks together.

Datasets: circles (the seed's circle problem as --tasks related tasks),
mulan:<set> (Mulan multi-target regression, one task per target).`,
		Example: `  metalearn transfer affinity --dataset mulan:atp1d --groups 2 --check --out results/affinity`,
	}, &transfer.AffinityOptions{}, "print one JSON line")
}

func newTransferDomainCmd() *cobra.Command {
	return transferCmd(&cobra.Command{
		Use:   "domain",
		Short: "Cross-domain recognition on Office-Caltech10 SURF: every source -> target pair, several methods",
		Long: `Unsupervised domain adaptation on Office-Caltech10 (800-bin SURF
histograms; domains A = amazon, C = caltech, D = dslr, W = webcam; 10
classes) with the protocol of Sun et al. 2016 (CORAL): L1-normalised,
per-domain z-scored features; 20 rounds of 20 source examples per class (8
when the source is dslr or webcam); the whole target domain is the test set.
The classifier is multinomial logistic regression with an L2 penalty of
1/(C n) on the mean loss (the scaling of a C-SVM), trained by full-batch Adam.

Methods: 1nn (nearest neighbour, no adaptation), source-only, coral (CORAL
alignment, then the classifier), coral-1nn, svm (one-against-one C-SVC with
a linear kernel, as libsvm), coral-svm (the SVM on CORAL-aligned source
features), coral-kernel (the CORAL authors' evaluation: the SVM on the kernel
x^T A x', A = Cs^(-1/2) Ct^(1/2), training kernel Xs A Xs^T, test Xs A Xt^T;
use --C-grid and every source image: --per-class 100000 --per-class-small
100000 --rounds 5), mmd (one-hidden-layer network
with a multi-kernel Gaussian MMD penalty between source and target hidden
features), coral-mmd, finetune (source-only classifier fine-tuned on
--target-shots labelled target examples per class; tested on the rest of the
target), target-only (the same few target examples alone).`,
		Example: `  metalearn transfer domain --rounds 20 --out results/office`,
	}, &transfer.DomainOptions{}, "print the report as one JSON line")
}
