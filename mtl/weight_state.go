package mtl

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/metalearn/metalearn/optim"
	"github.com/metalearn/metalearn/tensor"
)

// StateSaver is implemented by weightings with hidden state (loss
// histories, running averages, their own optimizers, random streams), so
// that a checkpointed run resumes exactly (TrainConfig.Resume). Weightings
// without it are taken to be stateless: their Weights depend only on the
// arguments of each call.
type StateSaver interface {
	SaveState() ([]byte, error)
	LoadState([]byte) error
}

// adamState is how a strategy's Adam state is saved (the layout of the
// strategy's own Adam before it became optim.Adam; kept so saved states
// load): moments M and V and the step count T.
type adamState struct {
	M, V []float64
	T    int
}

func (a *paramAdam) state() *adamState {
	if a == nil {
		return nil
	}
	if a.opt == nil {
		if a.pending != nil {
			return &adamState{M: append([]float64(nil), a.pending.M...), V: append([]float64(nil), a.pending.V...), T: a.pending.T}
		}
		return &adamState{}
	}
	st := a.opt.State()
	s := &adamState{T: st.Step}
	if m := st.Slots["m"]; len(m) == 1 && m[0] != nil {
		s.M = append([]float64(nil), m[0].Values...)
	}
	if v := st.Slots["v"]; len(v) == 1 && v[0] != nil {
		s.V = append([]float64(nil), v[0].Values...)
	}
	return s
}

// load restores s; it takes effect at the next step, when the number of
// parameters is known (a state for another number restarts the moments).
func (a *paramAdam) load(s *adamState) {
	if a == nil || s == nil {
		return
	}
	a.x, a.opt = nil, nil
	a.pending = &adamState{M: append([]float64(nil), s.M...), V: append([]float64(nil), s.V...), T: s.T}
}

// optimState is s as optim.Adam's state for n parameters.
func (s *adamState) optimState(lr float64, n int) *optim.State {
	slot := func(vs []float64) []*optim.SlotValue {
		return []*optim.SlotValue{{Shape: []int{n}, DType: tensor.Float64, Values: append([]float64(nil), vs...)}}
	}
	return &optim.State{Algorithm: "adam", Step: s.T, LR: lr, Slots: map[string][]*optim.SlotValue{"m": slot(s.M), "v": slot(s.V)}}
}

func rngState(src *rand.PCG) ([]byte, error) {
	if src == nil {
		return nil, nil
	}
	return src.MarshalBinary()
}

func loadRNG(src *rand.PCG, b []byte) error {
	if src == nil || b == nil {
		return nil
	}
	return src.UnmarshalBinary(b)
}

func saveJSON(v any) ([]byte, error) { return json.Marshal(v) }

func loadJSON(name string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("mtl: %s: bad saved state: %w", name, err)
	}
	return nil
}

type dbmtlState struct {
	Buf  [][]float64
	Step int
}

// SaveState implements StateSaver.
func (w *DBMTL) SaveState() ([]byte, error) { return saveJSON(dbmtlState{w.buf, w.step}) }

// LoadState implements StateSaver.
func (w *DBMTL) LoadState(b []byte) error {
	var s dbmtlState
	if err := loadJSON("dbmtl", b, &s); err != nil {
		return err
	}
	w.buf, w.step = s.Buf, s.Step
	return nil
}

type dwaState struct {
	Tasks, Calls, Epochs int
	Acc, Prev, Prv2      []float64
}

// SaveState implements StateSaver.
func (w *DWA) SaveState() ([]byte, error) {
	return saveJSON(dwaState{w.tasks, w.calls, w.epochs, w.acc, w.prev, w.prv2})
}

// LoadState implements StateSaver.
func (w *DWA) LoadState(b []byte) error {
	var s dwaState
	if err := loadJSON("dwa", b, &s); err != nil {
		return err
	}
	w.tasks, w.calls, w.epochs, w.acc, w.prev, w.prv2 = s.Tasks, s.Calls, s.Epochs, s.Acc, s.Prev, s.Prv2
	return nil
}

type famoState struct {
	Xi, Prev []float64
	Adam     *adamState
}

// SaveState implements StateSaver.
func (w *FAMO) SaveState() ([]byte, error) { return saveJSON(famoState{w.xi, w.prev, w.adam.state()}) }

// LoadState implements StateSaver.
func (w *FAMO) LoadState(b []byte) error {
	var s famoState
	if err := loadJSON("famo", b, &s); err != nil {
		return err
	}
	w.xi, w.prev = s.Xi, s.Prev
	if s.Adam != nil {
		if w.adam == nil {
			w.adam = newParamAdam(w.LR, w.Gamma)
		}
		w.adam.load(s.Adam)
	}
	return nil
}

type gradNormState struct {
	W, L0 []float64
	Adam  *adamState
}

// SaveState implements StateSaver.
func (w *GradNorm) SaveState() ([]byte, error) {
	return saveJSON(gradNormState{w.w, w.l0, w.adam.state()})
}

// LoadState implements StateSaver.
func (w *GradNorm) LoadState(b []byte) error {
	var s gradNormState
	if err := loadJSON("gradnorm", b, &s); err != nil {
		return err
	}
	w.w, w.l0 = s.W, s.L0
	if s.Adam != nil {
		if w.adam == nil {
			w.adam = newParamAdam(w.LR, 0)
		}
		w.adam.load(s.Adam)
	}
	return nil
}

type uwState struct {
	S    []float64
	Adam *adamState
}

// SaveState implements StateSaver.
func (w *UW) SaveState() ([]byte, error) { return saveJSON(uwState{w.s, w.adam.state()}) }

// LoadState implements StateSaver.
func (w *UW) LoadState(b []byte) error {
	var s uwState
	if err := loadJSON("uw", b, &s); err != nil {
		return err
	}
	w.s = s.S
	if s.Adam != nil {
		if w.adam == nil {
			w.adam = newParamAdam(w.LR, 0)
		}
		w.adam.load(s.Adam)
	}
	return nil
}

type gradVacState struct {
	RNG    []byte
	Target [][]float64
}

// SaveState implements StateSaver.
func (w *GradVac) SaveState() ([]byte, error) {
	r, err := rngState(w.src)
	if err != nil {
		return nil, err
	}
	return saveJSON(gradVacState{r, w.target})
}

// LoadState implements StateSaver.
func (w *GradVac) LoadState(b []byte) error {
	var s gradVacState
	if err := loadJSON("gradvac", b, &s); err != nil {
		return err
	}
	w.target = s.Target
	return loadRNG(w.src, s.RNG)
}

// SaveState implements StateSaver.
func (w *PCGrad) SaveState() ([]byte, error) { return rngState(w.src) }

// LoadState implements StateSaver.
func (w *PCGrad) LoadState(b []byte) error { return loadRNG(w.src, b) }

// SaveState implements StateSaver.
func (w *RLW) SaveState() ([]byte, error) { return rngState(w.src) }

// LoadState implements StateSaver.
func (w *RLW) LoadState(b []byte) error { return loadRNG(w.src, b) }
