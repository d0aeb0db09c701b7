package transfer

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/metalearn/metalearn/runfolder"
)

// FolderRunConfig is a transfer run into a run folder (package runfolder),
// as `metalearn train -c` runs a kind: transfer configuration: one
// command with its settings given by flag name.
type FolderRunConfig struct {
	// Command is one of CommandNames.
	Command string
	// Options maps flag names (without dashes) to values, as on the
	// command line; out and json are set by the run.
	Options map[string]string
	// DataDir and Seed fill the command's data-dir and seed flags where
	// it has them and Options leaves them unset.
	DataDir string
	Seed    uint64

	// Folder is the run folder, created with FolderConfig as its
	// config.yaml; the command writes into Folder/<command> (pretrain:
	// Folder/source.safetensors) and its report into Folder/report.txt.
	Folder       string
	FolderConfig []byte
	Summary      map[string]any // extra summary.json entries
	// Echo, when set, receives the report (and the progress lines) as
	// they are written.
	Echo io.Writer
	// File names the configuration in messages; Where names the origin
	// of a key ("transfer.options.<flag>"; nil: the key itself).
	File  string
	Where func(key string) string
}

// FolderRunResult is what RunFolder returns.
type FolderRunResult struct {
	// Args is the equivalent command line after `metalearn transfer`.
	Args []string
	// Out is the command's output (a folder; pretrain: the checkpoint).
	Out     string
	Summary map[string]any
	Seconds float64
}

// RunFolder sets the command's flags from cfg.Options (an unknown name is
// an error listing the known ones), runs it into the run folder and
// writes report.txt and summary.json.
func RunFolder(cfg FolderRunConfig) (*FolderRunResult, error) {
	where := cfg.Where
	if where == nil {
		where = func(key string) string { return key }
	}
	c, err := NewCommand(cfg.Command)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where("transfer.command"), err)
	}
	fs := pflag.NewFlagSet(cfg.Command, pflag.ContinueOnError)
	c.Bind(fs)
	keys := make([]string, 0, len(cfg.Options))
	for k := range cfg.Options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	args := []string{cfg.Command}
	set := func(k, v string) error {
		if err := fs.Set(k, v); err != nil {
			return fmt.Errorf("%s: %w", where("transfer.options."+k), err)
		}
		args = append(args, "--"+k+"="+v)
		return nil
	}
	for _, k := range keys {
		if fs.Lookup(k) == nil || k == "out" {
			var known []string
			fs.VisitAll(func(f *pflag.Flag) {
				if f.Name != "out" {
					known = append(known, f.Name)
				}
			})
			return nil, fmt.Errorf("%s: unknown option %q for transfer %s (known: %s)", where("transfer.options."+k), k, cfg.Command, strings.Join(known, ", "))
		}
		if err := set(k, cfg.Options[k]); err != nil {
			return nil, err
		}
	}
	for _, kv := range [][2]string{{"data-dir", cfg.DataDir}, {"seed", fmt.Sprint(cfg.Seed)}} {
		if _, given := cfg.Options[kv[0]]; !given && fs.Lookup(kv[0]) != nil {
			if err := set(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	}
	folder, err := runfolder.Create(cfg.Folder, cfg.FolderConfig)
	if err != nil {
		return nil, err
	}
	defer folder.Close()
	out := filepath.Join(cfg.Folder, cfg.Command)
	if cfg.Command == "pretrain" {
		out = filepath.Join(cfg.Folder, "source.safetensors")
	}
	if err := set("out", out); err != nil {
		return nil, err
	}
	var report bytes.Buffer
	w := io.Writer(&report)
	if cfg.Echo != nil {
		w = io.MultiWriter(&report, cfg.Echo)
	}
	start := time.Now()
	if err := c.Run(Output{W: w, Progress: w}); err != nil {
		return nil, fmt.Errorf("%s (transfer.options): %w", cfg.File, err)
	}
	reportPath := filepath.Join(cfg.Folder, "report.txt")
	if err := runfolder.WriteFileAtomic(reportPath, report.Bytes()); err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	if cfg.Command == "pretrain" {
		files = []string{out}
	}
	secs := time.Since(start).Seconds()
	summary := map[string]any{"kind": "transfer", "command": append([]string{"metalearn", "transfer"}, args...),
		"outputs": files, "report": reportPath, "seconds": secs, "peak_rss_mib": runfolder.PeakRSSMiB()}
	for k, v := range cfg.Summary {
		summary[k] = v
	}
	if err := folder.WriteSummary(summary); err != nil {
		return nil, err
	}
	return &FolderRunResult{Args: args, Out: out, Summary: summary, Seconds: secs}, nil
}
