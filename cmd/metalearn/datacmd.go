package main

import (
	"context"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/metalearn/metalearn/data"
)

func newDataCmd() *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Datasets: list what is known and present, verify checksums, download official files",
		Long: `The data folder is, in this order: --data-dir; $METALEARN_DATA; the
user-level folder (metalearn/data under the OS cache folder, e.g.
~/.cache/metalearn/data on Linux) when it exists; ../shared/data beside the
source checkout (when run inside it) when that exists; otherwise the
user-level folder, which data get creates. Every command that reads
datasets follows the same rule.

Omniglot, MNIST and Fashion-MNIST can be downloaded from their official
sources (verified against the published checksums); the others say where to
obtain them.`,
	}
	cmd.PersistentFlags().StringVar(&dir, "data-dir", "", "data folder")
	cmd.PersistentFlags().SetAnnotation("data-dir", selfResolved, []string{"true"})
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "JSON output")
	folder := func() string { return data.ResolveDir(dir).Path }
	list := &cobra.Command{
		Use:   "list",
		Short: "Known datasets, where metalearn looks for them and whether they are present",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			res := data.ResolveDir(dir)
			d := res.Path
			type row struct {
				Name, Description, Licence string
				Present, Downloadable      bool
				Files                      []data.FileCheck
				Obtain                     string
			}
			var rows []row
			for _, ds := range data.Datasets {
				checks, ok := ds.Present(d)
				rows = append(rows, row{ds.Name, ds.Description, ds.Licence, ok, ds.Gettable(), checks, ds.Obtain})
			}
			if asJSON {
				return writeJSONLine(out, map[string]any{"data_dir": d, "data_dir_source": res.Source, "datasets": rows})
			}
			fmt.Fprintf(out, "data folder: %s\n  (chosen by: %s; the order is --data-dir, $%s, the user folder, ../shared/data beside the checkout)\n\n", d, res.Source, data.EnvDataDir)
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "dataset\tpresent\tget\tdescription")
			for _, r := range rows {
				get := "by hand"
				if r.Downloadable {
					get = "metalearn data get " + r.Name
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, yesNo(r.Present), get, r.Description)
			}
			return tw.Flush()
		},
	}
	verify := &cobra.Command{
		Use:   "verify [dataset...]",
		Short: "Check the present files against the official (or recorded) checksums",
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			d := folder()
			sets := data.Datasets
			if len(args) > 0 {
				sets = nil
				for _, a := range args {
					ds, err := data.LookupDataset(a)
					if err != nil {
						return err
					}
					sets = append(sets, ds)
				}
			}
			bad, checked := 0, 0
			var all []data.FileCheck
			for _, ds := range sets {
				for _, c := range ds.Verify(d) {
					if !c.Present {
						continue
					}
					checked++
					all = append(all, c)
					status := "ok (" + c.Verified + ")"
					if c.Verified == "" {
						status = "present (no checksum recorded)"
					}
					if c.Err != "" {
						status, bad = "FAILED: "+c.Err, bad+1
					}
					if !asJSON {
						fmt.Fprintf(out, "%-50s %s\n", c.Path, status)
					}
				}
			}
			if asJSON {
				if err := writeJSONLine(out, map[string]any{"data_dir": d, "files": all, "failed": bad}); err != nil {
					return err
				}
			}
			if checked == 0 {
				return fmt.Errorf("no dataset files found in %s (see metalearn data list)", d)
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d files failed verification", bad, checked)
			}
			return nil
		},
	}
	var timeout time.Duration
	get := &cobra.Command{
		Use:   "get omniglot|mnist|fashion-mnist",
		Short: "Download a dataset's official files into the data folder, verifying checksums",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ds, err := data.LookupDataset(args[0])
			if err != nil {
				return err
			}
			if timeout <= 0 {
				return fmt.Errorf("--timeout = %v, want > 0", timeout)
			}
			d := folder()
			client := &http.Client{Timeout: timeout}
			n, err := ds.Get(context.Background(), client, d, func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) })
			if err != nil {
				return err
			}
			if n == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: all files present and verified in %s; nothing downloaded\n", ds.Name, d)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d file(s) downloaded; all files present and verified in %s\n", ds.Name, n, d)
			return nil
		},
	}
	get.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "per-file download timeout")
	cmd.AddCommand(list, verify, get)
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
