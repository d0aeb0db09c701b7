package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// placeholder: replaced by the serve implementation
func newServeCmd() *cobra.Command {
	return &cobra.Command{Use: "serve", Short: "(being built)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("serve: not built yet") }}
}
