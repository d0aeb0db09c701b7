package config

import (
	"strings"
	"testing"
)

// FuzzParse: no configuration text may panic or hang the parser, and every
// error is a single line naming the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good), "")
	f.Add([]byte("kind: mtl\nmtl:\n  weighting: pcgrad\n  steps: 10\n"), "mtl.lr=0.5")
	f.Add([]byte("kind: meta\nmeta:\n  shots: [1, 2]\n"), "")
	f.Add([]byte("kind: meta\nmeta: &a\n  x: *a\n"), "")
	f.Add([]byte("{kind: transfer, transfer: {source: a, target: b}}"), "seed=-1")
	f.Add([]byte("kind: meta\nmeta:\n  outer_lr: .nan\n"), "meta.iterations=1e99")
	f.Fuzz(func(t *testing.T, src []byte, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		c, err := Parse("f.yaml", src, sets)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			if !strings.Contains(err.Error(), "f.yaml") && !strings.Contains(err.Error(), "--set") {
				t.Fatalf("error does not name the file or override: %q", err)
			}
			return
		}
		// a valid configuration resolves to YAML that parses to the same thing
		if _, err := Parse("resolved.yaml", c.Resolved(), nil); err != nil {
			t.Fatalf("resolved config of a valid file does not parse: %v\n%s", err, c.Resolved())
		}
	})
}
