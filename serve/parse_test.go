package serve

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// parseFlat must agree with json.Unmarshal into []float32 whenever it
// accepts, and decline everything the general path has to judge.
func TestParseFlatMatchesJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var arr []float32
	for i := 0; i < 784; i++ {
		arr = append(arr, float32(rng.NormFloat64()*math10(rng.IntN(12)-6)))
	}
	enc, _ := json.Marshal(arr)
	cases := map[string]int{
		string(enc):                    784,
		"[1,2,3]":                      3,
		" [ 1 , -2.5e3 ,\n\t3E-2 ] ":   3,
		"[0, -0, 1e-45, 3.4028235e38]": 4,
		"[1,2]":                        3, // short
		"[1,2,3,4]":                    3, // long
		"[]":                           0,
		"[[1,2],[3,4]]":                4, // nested
		`[1,"2",3]`:                    3,
		"[1,null,3]":                   3,
		"[1e39,0,0]":                   3, // out of float32 range
		"[1,2,3] x":                    3,
	}
	accept := map[string]bool{string(enc): true, "[1,2,3]": true, " [ 1 , -2.5e3 ,\n\t3E-2 ] ": true, "[0, -0, 1e-45, 3.4028235e38]": true}
	for in, size := range cases {
		raw := []byte(in)
		for len(raw) > 0 && (raw[0] == ' ') {
			raw = raw[1:]
		}
		got, ok := parseFlat(raw, size)
		var want []float32
		err := json.Unmarshal(raw, &want)
		if ok {
			if err != nil || len(want) != size || !slices.Equal(got, want) {
				t.Errorf("%.40q: fast path gave %v, json gives %v (%v)", in, got[:min(3, len(got))], want[:min(3, len(want))], err)
			}
		} else if accept[in] {
			t.Errorf("%.40q: fast path declined a flat array of %d numbers", in, size)
		}
	}
	for i := 0; i < 200; i++ {
		n := 1 + rng.IntN(20)
		s := "["
		for j := 0; j < n; j++ {
			if j > 0 {
				s += ","
			}
			s += strconv.FormatFloat(rng.NormFloat64()*math10(rng.IntN(20)-10), 'g', -1, 64)
		}
		s += "]"
		got, ok := parseFlat([]byte(s), n)
		var want []float32
		if err := json.Unmarshal([]byte(s), &want); err != nil || !ok || !slices.Equal(got, want) {
			t.Fatalf("%s: fast %v %v, json %v %v", s, got, ok, want, err)
		}
	}
}

func math10(e int) float64 {
	v := 1.0
	for ; e > 0; e-- {
		v *= 10
	}
	for ; e < 0; e++ {
		v /= 10
	}
	return v
}
