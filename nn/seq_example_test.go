package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/nn"
)

// A Seq2Seq model trains on padded token batches (targets start with <s>
// and end with </s>) and decodes with beam search over a key/value cache.
func ExampleSeq2Seq() {
	rng := rand.New(rand.NewPCG(1, 1))
	m, err := nn.NewSeq2Seq(rng, 20, nn.TransformerConfig{DModel: 16, Heads: 2, EncoderLayers: 1, DecoderLayers: 1, FFN: 32, NormFirst: true})
	if err != nil {
		panic(err)
	}
	w := nn.Vars(m)
	src := nn.Tokens{IDs: []int{5, 6, 7, 8, 9, 0}, Lens: []int{3, 2}, T: 3} // two sources, padded with 0
	tgt := nn.Tokens{IDs: []int{1, 10, 11, 2, 1, 12, 2, 0}, Lens: []int{4, 3}, T: 4}
	loss, ntok := m.Loss(w, src, tgt, 0.1)
	fmt.Println("tokens predicted:", ntok, "finite loss:", loss.Item() == loss.Item())

	m.SetTraining(false)
	nbest, err := nn.BeamSearch(m.StartDecoding(w, src), src.Lens, nn.SearchConfig{
		Beam: 3, NBest: 2, LengthPenalty: 0.6, MaxLenRatio: 1, MaxLenConst: 3, BOS: 1, EOS: 2})
	if err != nil {
		panic(err)
	}
	for s, hs := range nbest {
		fmt.Println("sentence", s, "hypotheses:", len(hs), "best first:", hs[0].Score >= hs[1].Score)
	}
	// Output:
	// tokens predicted: 5 finite loss: true
	// sentence 0 hypotheses: 2 best first: true
	// sentence 1 hypotheses: 2 best first: true
}
