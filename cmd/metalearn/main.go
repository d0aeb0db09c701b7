// Command metalearn is the command-line interface to the metalearn toolkit.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	setGCPolicy()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the exit status. Errors are printed as
// one line; an unexpected panic becomes an "internal error" message rather
// than a stack trace.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "metalearn: internal error: %v\n", r)
			code = 2
		}
	}()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "metalearn: %v\n", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "metalearn",
		Short:         "Multi-task learning, meta-learning and knowledge transfer in pure Go",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newSeedCmd(), newMetaCmd(), newMTLCmd(), newBenchCmd(), newTransferCmd(), newServeCmd(), newDashCmd(), newTrainCmd(), newDemoCmd(), newDataCmd(), newPlotCmd(), newMTCmd())
	return root
}
