// Package flagalias keeps a renamed command-line flag's old name working
// for a release: the old name sets the new flag (which then counts as
// changed), is hidden from help, and the CLI prints a deprecation notice
// when it is used (cmd/metalearn's conventions).
package flagalias

import "github.com/spf13/pflag"

type value struct {
	fs     *pflag.FlagSet
	target string
	pflag.Value
}

func (a value) Set(s string) error { return a.fs.Set(a.target, s) }

// Rename adds oldName to fs as a hidden alias of the flag newName, which
// must be defined already.
func Rename(fs *pflag.FlagSet, oldName, newName string) {
	nf := fs.Lookup(newName)
	if nf == nil {
		panic("flagalias: no flag --" + newName)
	}
	fs.AddFlag(&pflag.Flag{
		Name:        oldName,
		Usage:       "deprecated: use --" + newName,
		Value:       value{fs: fs, target: newName, Value: nf.Value},
		DefValue:    nf.DefValue,
		NoOptDefVal: nf.NoOptDefVal,
	})
	if err := fs.MarkHidden(oldName); err != nil {
		panic(err)
	}
}

// Target reports the new name f stands for when f is an old name kept by
// Rename.
func Target(f *pflag.Flag) (string, bool) {
	if a, ok := f.Value.(value); ok {
		return a.target, true
	}
	return "", false
}
