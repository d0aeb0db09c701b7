package main

// The conventions every command follows, applied once to the whole command
// tree by newRoot (so no command has to remember them):
//
//   - an unknown subcommand, at any level, is a one-line error (exit 1)
//     with a "did you mean" suggestion;
//   - an unknown flag is a one-line error with the closest flag names;
//   - every --data-dir flag follows data.ResolveDir (flag >
//     $METALEARN_DATA > the user-level folder > ../shared/data beside the
//     checkout) and holds an absolute path by the time a command runs;
//   - a renamed flag keeps its old name as a deprecated alias for a
//     release (renameFlag).

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/internal/flagalias"
)

func init() {
	// Subcommands may add their own PersistentPreRunE without losing the
	// root's (the data-folder rule).
	cobra.EnableTraverseRunHooks = true
}

// selfResolved marks a --data-dir flag whose command applies
// data.ResolveDir itself (the data command, which reports the rule used).
const selfResolved = "metalearn/resolves-data-dir"

func dataDirUsage(usage string) string {
	u := "the user default"
	if d, err := data.UserDataDir(); err == nil {
		u = d
	}
	return usage + "; default: $" + data.EnvDataDir + ", else " + u + " if it exists, else ../shared/data beside the source checkout (metalearn data list shows the folder in use)"
}

// applyConventions walks the command tree once, after every command is
// added.
func applyConventions(root *cobra.Command) {
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		warnDeprecated(cmd)
		return resolveDataDirFlag(cmd)
	}
	root.SetFlagErrorFunc(flagError)
	root.Args = cobra.ArbitraryArgs // unknown top-level commands: groupRun's one-line message
	root.RunE = groupRun
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2
		}
		if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
			c.Args = cobra.ArbitraryArgs
			c.RunE = groupRun
		} else if c.HasSubCommands() {
			// runnable itself (serve): an argument it does not take is a
			// mistyped subcommand
			check := c.Args
			if check == nil {
				check = cobra.NoArgs
			}
			c.Args = func(cmd *cobra.Command, args []string) error {
				err := check(cmd, args)
				if err != nil && len(args) > 0 {
					return unknownCommand(cmd, args[0])
				}
				return err
			}
		}
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			if f := fs.Lookup("data-dir"); f != nil && f.Value.Type() == "string" {
				f.DefValue = ""
				if !strings.Contains(f.Usage, "default: ") {
					if i := strings.Index(f.Usage, " (default"); i >= 0 {
						f.Usage = f.Usage[:i]
					}
					f.Usage = dataDirUsage(f.Usage)
				}
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// resolveDataDirFlag gives the running command's --data-dir an absolute
// path by data.ResolveDir. It sets the flag's value without marking it
// changed, so commands that tell "given" from "default" still can.
func resolveDataDirFlag(cmd *cobra.Command) error {
	f := cmd.Flags().Lookup("data-dir")
	if f == nil || f.Value.Type() != "string" {
		return nil
	}
	if _, self := f.Annotations[selfResolved]; self {
		return nil
	}
	given := ""
	if f.Changed {
		given = f.Value.String()
	}
	return f.Value.Set(data.ResolveDir(given).Path)
}

// groupRun is the RunE of a command that only groups subcommands: with no
// argument it prints its help, otherwise the argument is an unknown
// subcommand.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return unknownCommand(cmd, args[0])
}

func unknownCommand(cmd *cobra.Command, arg string) error {
	msg := fmt.Sprintf("unknown command %q for %q", arg, cmd.CommandPath())
	if s := cmd.SuggestionsFor(arg); len(s) > 0 {
		return fmt.Errorf("%s (did you mean %s?)", msg, strings.Join(s, " or "))
	}
	var names []string
	for _, s := range cmd.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return fmt.Errorf("%s (commands: %s; see '%s --help')", msg, strings.Join(names, ", "), cmd.CommandPath())
}

// flagError adds the closest flag names to pflag's "unknown flag" error,
// on the same line (every CLI error is one line).
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return err
	}
	if s := suggestFlags(cmd.Flags(), name); len(s) > 0 {
		return fmt.Errorf("%s (did you mean --%s?)", msg, strings.Join(s, " or --"))
	}
	return fmt.Errorf("%s (see '%s --help')", msg, cmd.CommandPath())
}

// suggestFlags returns the flag names within edit distance 2 of name (or
// of which name is a prefix or that name contains), closest first.
func suggestFlags(fs *pflag.FlagSet, name string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	seen := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) {
		suggest := f.Name
		if target, ok := flagalias.Target(f); ok {
			suggest = target // close to an old name: offer the new one
		} else if f.Hidden {
			return
		}
		d := levenshtein(name, f.Name)
		if d > 2 && len(name) >= 3 && (strings.HasPrefix(f.Name, name) || strings.Contains(name, f.Name) && len(f.Name) >= 3) {
			d = 2
		}
		if d <= 2 && !seen[suggest] {
			seen[suggest] = true
			cs = append(cs, cand{suggest, d})
		}
	})
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i, c := range cs {
		if i == 3 {
			break
		}
		out = append(out, c.name)
	}
	return out
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// renameFlag keeps a renamed flag's old name working for a release
// (flagalias.Rename); warnDeprecated prints the notice on stderr (pflag's
// own would go to the command's output, mixing with --json).
func renameFlag(fs *pflag.FlagSet, oldName, newName string) { flagalias.Rename(fs, oldName, newName) }

// warnDeprecated prints one line on stderr for each old flag name used.
func warnDeprecated(cmd *cobra.Command) {
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if target, ok := flagalias.Target(f); ok {
			fmt.Fprintf(cmd.ErrOrStderr(), "metalearn: --%s is deprecated, use --%s (the old name goes in the next release)\n", f.Name, target)
		}
	})
}

type aliasValue struct {
	fs     *pflag.FlagSet
	target string
	pflag.Value
}

func (a aliasValue) Set(s string) error { return a.fs.Set(a.target, s) }

// isDir reports whether p is an existing folder.
func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
