package meta

import (
	"math/rand/v2"

	"github.com/metalearn/metalearn/nn"
)

// Built is an algorithm with the modules it owns, for checkpointing.
type Built struct {
	Algorithm Algorithm
	Body      nn.Module // nil unless ANIL
	Model     nn.Module // the (head) network / encoder
	Spec      Spec
}

// Build creates the model and algorithm described by s, initialised from s.Seed.
func Build(s Spec) (*Built, error) {
	s.Defaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x6d6f64656c))
	b := &Built{Spec: s}
	var body, head nn.Module
	if s.Dataset == "sinusoid" {
		if info(s.Algorithm).net == bodyAndHead {
			body = nn.NewSequential(nn.NewLinear(rng, 1, s.Hidden), nn.ReLU(), nn.NewLinear(rng, s.Hidden, s.Hidden), nn.ReLU())
			head = nn.NewLinear(rng, s.Hidden, 1)
		} else {
			head = nn.MLP(rng, nn.ReLU, 1, s.Hidden, s.Hidden, 1)
		}
	} else {
		enc := s.encoder(rng)
		switch info(s.Algorithm).net {
		case encoderNet:
			head = enc
		case bodyAndHead:
			body, head = enc, nn.NewLinear(rng, s.Hidden, s.Ways)
		default:
			head = nn.NewSequential(enc, nn.NewLinear(rng, s.Hidden, s.Ways))
		}
	}
	b.Body, b.Model = body, head
	var err error
	if b.Algorithm, err = info(s.Algorithm).build(s, body, head); err != nil {
		return nil, err
	}
	if m, ok := b.Algorithm.(*MAML); ok && s.BatchNorm == "per-step" {
		// one structural copy per step (their own parameters are unused)
		for i := 0; i <= max(s.InnerSteps, s.EvalSteps); i++ {
			m.StepModules = append(m.StepModules, nn.NewSequential(s.encoder(rng), nn.NewLinear(rng, s.Hidden, s.Ways)))
		}
	}
	return b, nil
}

// encoder returns the Conv4 feature extractor with BatchNorm configured
// for the spec's mode.
func (s Spec) encoder(rng *rand.Rand) *nn.Sequential {
	enc := nn.Conv4(rng, 1, s.Hidden)
	if s.Arch == "strided" {
		enc = nn.Conv4Strided(rng, 1, s.Hidden)
	}
	for _, l := range enc.Layers {
		if bn, ok := l.(*nn.BatchNorm); ok {
			// transductive: batch statistics at train and test time
			bn.TrackRunningStats = s.BatchNorm != "transductive"
		}
	}
	return enc
}
