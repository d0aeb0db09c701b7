package serve

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

// fastDecodeSeeds are bodies for the fast decoder: the common shapes it
// must take, and near misses it must leave to the general decoder.
var fastDecodeSeeds = []string{
	`{"model":"proto","support":{"inputs":[[0,1,0.5],[1e-3,-2.5E+2,0]],"labels":[0,1]}}`,
	` { "model" : "m" , "steps" : 3 , "learning_rate" : 0.25 , "support" : { "inputs" : [ [ 1 ] ] , "targets" : [ -0.5 ] } } `,
	`{"id":"abc","inputs":[[1,2,3]]}`,
	`{"model":"m","support":{"inputs":[[1]],"labels":[0]},"inputs":[[2],[3]]}`,
	`{"model":"m","support":{"inputs":[],"labels":[]}}`,
	`{}`,
	// left to the general decoder
	`{"Model":"m"}`,                                      // another spelling of a key
	`{"model":"m","model":"n"}`,                          // duplicate key
	`{"model":"m\u0041"}`,                                // escape
	`{"model":"é"}`,                                      // non-ASCII
	`{"model":null}`,                                     // null
	`{"steps":1.0}`,                                      // not an integer
	`{"steps":99999999999999999999}`,                     // out of range
	`{"id":"a","inputs":[[01]]}`,                         // leading zero
	`{"id":"a","inputs":[[1.]]}`,                         // bad fraction
	`{"id":"a","inputs":[[-]]}`,                          // bad number
	`{"id":"a","inputs":[[1e39]]}`,                       // beyond float32
	`{"id":"a","inputs":[[[1,2],[3,4]]]}`,                // nested image
	`{"id":"a","inputs":["iVBORw0KGgo="]}`,               // PNG
	`{"id":"a","inputs":[[]]}`,                           // empty input
	`{"id":"a","inputs":[1]}`,                            // bare number
	`{"id":"a","inputs":[[1,]]}`,                         // trailing comma
	`{"id":"a"} {}`,                                      // trailing data
	`{"id":"a"`,                                          // truncated
	`{"model":"m","support":{"inputs":[[1]],"extra":1}}`, // unknown key
	`{"model":"m","support":{"labels":[1.5]}}`,           // fractional label
	`[]`,
	``,
}

// FuzzFastDecode: whenever the fast decoder takes a body, the general
// decoder takes it too and gives the same request, and the numbers read
// on the way are those encoding/json reads from each input.
func FuzzFastDecode(f *testing.F) {
	for _, s := range fastDecodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastAdapt(t, body)
		checkFastPredict(t, body)
	})
}

func checkFastAdapt(t *testing.T, body []byte) bool {
	var fast, slow AdaptRequest
	if !fastDecodeAdapt(body, &fast) {
		return false
	}
	if err := decodeGeneral(body, &slow); err != nil {
		t.Fatalf("%q: fast decoder took it, general decoder: %v", body, err)
	}
	checkParsed(t, body, fast.Support.Inputs, fast.Support.parsed)
	fast.Support.parsed = nil
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: fast %+v, general %+v", body, fast, slow)
	}
	return true
}

func checkFastPredict(t *testing.T, body []byte) bool {
	var fast, slow PredictRequest
	if !fastDecodePredict(body, &fast) {
		return false
	}
	if err := decodeGeneral(body, &slow); err != nil {
		t.Fatalf("%q: fast decoder took it, general decoder: %v", body, err)
	}
	checkParsed(t, body, fast.Inputs, fast.parsed)
	fast.parsed = nil
	if fast.Support != nil {
		checkParsed(t, body, fast.Support.Inputs, fast.Support.parsed)
		fast.Support.parsed = nil
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: fast %+v, general %+v", body, fast, slow)
	}
	return true
}

func checkParsed(t *testing.T, body []byte, raw []Input, parsed [][]float32) {
	t.Helper()
	if len(parsed) != len(raw) {
		t.Fatalf("%q: %d inputs, %d parsed", body, len(raw), len(parsed))
	}
	for i, r := range raw {
		var want []float32
		if err := json.Unmarshal(r, &want); err != nil || !reflect.DeepEqual(want, parsed[i]) {
			t.Fatalf("%q: input %d: parsed %v, encoding/json %v (%v)", body, i, parsed[i], want, err)
		}
	}
}

// The fast decoder takes the common shapes (and the test above would
// catch it taking a body wrongly); the near misses go to the general one.
func TestFastDecodeTakesCommonShapes(t *testing.T) {
	for i, s := range fastDecodeSeeds {
		a, p := checkFastAdapt(t, []byte(s)), checkFastPredict(t, []byte(s))
		common := i < 6
		if common && !a && !p {
			t.Errorf("%q: neither fast decoder took it", s)
		}
		if !common && (a || p) {
			t.Errorf("%q: taken by the fast decoder (adapt %v, predict %v), want the general one", s, a, p)
		}
	}
	// a real request body, as the client and the load generator send it
	ep := randomEpisode(1, 5, 1, 1)
	body, err := json.Marshal(AdaptRequest{Model: "proto", Support: Support{Inputs: ep.sIn, Labels: ep.sl}})
	if err != nil {
		t.Fatal(err)
	}
	if !checkFastAdapt(t, body) {
		t.Errorf("a client's adapt request was not taken by the fast decoder")
	}
	body, _ = json.Marshal(PredictRequest{ID: "x", Inputs: ep.qIn})
	if !checkFastPredict(t, body) {
		t.Errorf("a client's predict request was not taken by the fast decoder")
	}
}

// shortFloat gives exactly strconv.ParseFloat's value (both sizes, signed
// zeros included) whenever it takes a token, and takes the common ones.
func TestShortFloatMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	tokens := []string{"0", "-0", "1", "-1", "0.5", "0.83245367", "12345678", "16777215", "16777217",
		"9007199254740993", "1e10", "1e11", "1.5e-10", "123e-12", "0.000001", "-0.0", "0e5", "7E+3",
		"0.1", "0.2", "0.3", "3.4028235e38", "1e-45", "4.9e-324", "1e23", "123456789012345678"}
	for i := 0; i < 200000; i++ {
		var s string
		switch i % 4 {
		case 0: // how json.Marshal writes a float32
			s = strconv.FormatFloat(float64(float32(rng.Float64())), 'g', -1, 32)
		case 1:
			s = strconv.FormatFloat(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(40)-20)), 'g', -1, 64)
		case 2:
			s = strconv.FormatFloat(float64(rng.IntN(1<<26))/math.Pow(10, float64(rng.IntN(12))), 'f', -1, 64)
		default:
			s = strconv.Itoa(rng.IntN(1 << 30))
		}
		tokens = append(tokens, s)
	}
	taken := 0
	for _, s := range tokens {
		for _, bits := range []int{32, 64} {
			want, err := strconv.ParseFloat(s, bits)
			got, ok := shortFloat([]byte(s), bits)
			if !ok {
				continue
			}
			taken++
			if err != nil || math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("shortFloat(%q, %d) = %v, strconv %v (%v)", s, bits, got, want, err)
			}
		}
	}
	for _, s := range []string{"0", "-0", "0.5", "255"} {
		if _, ok := shortFloat([]byte(s), 32); !ok {
			t.Errorf("shortFloat(%q) not taken", s)
		}
	}
	if taken < len(tokens)/2 {
		t.Errorf("only %d of %d conversions taken", taken, 2*len(tokens))
	}
}
