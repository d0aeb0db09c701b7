package mt_test

import (
	"fmt"

	"github.com/metalearn/metalearn/mt"
)

func ExampleBLEU_Corpus() {
	hyps := []string{"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."}
	refs := [][]string{
		{"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
		{"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."},
	}
	bleu, _ := mt.DefaultBLEU().Corpus(hyps, refs)
	chrf, _ := mt.CHRF{}.Corpus(hyps, refs)
	fmt.Println(bleu)
	fmt.Println(bleu.Signature())
	fmt.Println(chrf)
	fmt.Println(chrf.Signature())
	// Output:
	// BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)
	// nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x
	// chrF2 = 59.73
	// nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x
}

func ExampleTrainBPE() {
	corpus := map[string][]string{
		"en": {"Open the file", "Close the file", "Save the file"},
		"de": {"Datei öffnen", "Datei schließen", "Datei speichern"},
	}
	v, _ := mt.TrainBPE(corpus, mt.BPEConfig{Merges: 12})
	tags, _ := v.AddLanguageTags("de")
	ids := v.Encode("Open the Datei")
	var pieces []string
	for _, id := range ids {
		pieces = append(pieces, v.Piece(id))
	}
	back, _ := v.Decode(append(tags, ids...))
	fmt.Println(pieces)
	fmt.Println(back)
	// Output:
	// [▁ O p en ▁the ▁Datei]
	// Open the Datei
}

// Training a multilingual model on lo-mt, then translating with it. (Not
// run as a test: it needs ../shared/data/lo-mt and minutes of training;
// TestTrainLoMTBeatsUntrained runs a small version.)
func ExampleTrain() {
	c := mt.DefaultTrainConfig()
	c.Data = "../shared/data/lo-mt"
	c.Pairs = []string{"en-de", "en-fr", "de-en", "fr-en"} // one shared model, <2xx> tags
	c.Steps, c.Out = 4000, "runs/mt"
	res, err := mt.Train(c) // best dev-chrF weights in runs/mt/model.safetensors
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _, err := mt.LoadModel(res.Model)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := m.Translate([]string{"Open the file"}, "de", mt.TranslateOptions{Beam: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out[0][0].Text)
}
