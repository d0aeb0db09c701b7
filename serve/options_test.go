package serve

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestOptionsConfig(t *testing.T) {
	dir := t.TempDir()
	defaults := func() Options {
		var o Options
		o.Bind(pflag.NewFlagSet("serve", pflag.ContinueOnError), true)
		o.Models = dir
		return o
	}
	o := defaults()
	c, err := o.Config(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Queue != 64 || c.CacheBytes != 256<<20 || c.Limits.MaxBodyBytes != 8<<20 || c.QueueTimeout != 5*time.Second || c.Addr != "127.0.0.1:8080" {
		t.Errorf("config from the defaults %+v", c)
	}
	for _, tc := range []struct {
		set  func(*Options)
		want string
	}{
		{func(o *Options) { o.Models = "" }, "--models is required"},
		{func(o *Options) { o.Models = dir + "/nope" }, "not a readable directory"},
		{func(o *Options) { o.MaxWays = 1 }, "--max-ways = 1, want >= 2"},
		{func(o *Options) { o.MaxLR = 0 }, "--max-lr = 0"},
		{func(o *Options) { o.CacheTTL = 0 }, "--cache-ttl"},
	} {
		o := defaults()
		tc.set(&o)
		if _, err := o.Config(io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	o = defaults()
	o.Queue = 0
	if c, _ := o.Config(io.Discard); c.Queue != -1 {
		t.Errorf("--queue 0 gives Config.Queue %d, want -1 (no waiting)", c.Queue)
	}
}

func TestClientOptionsRefuse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		demo bool
		want string
	}{
		{[]string{"--url", "http://127.0.0.1:1"}, false, "--model is required"},
		{[]string{"--model", "p"}, false, "give --url"},
		{[]string{"--model", "p", "--url", "http://127.0.0.1:1", "--models", "x"}, false, "not both"},
		{[]string{"--model", "p", "--url", "http://127.0.0.1:1", "--steps", "-1"}, false, "--steps = -1"},
		{[]string{"--model", "p", "--url", "http://127.0.0.1:1", "--concurrency", "0"}, false, "--concurrency = 0"},
		{[]string{"--model", "p", "--shots", "1,x"}, true, `--shots "1,x"`},
		{[]string{"--model", "p", "--users", "0"}, true, "--users 0"},
	} {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		var run func() error
		if tc.demo {
			var o DemoOptions
			o.Bind(fs)
			run = func() error { return o.Run(context.Background(), io.Discard, io.Discard, false) }
		} else {
			var o LoadOptions
			o.Bind(fs)
			run = func() error { return o.Run(context.Background(), io.Discard, io.Discard, false) }
		}
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := run(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
