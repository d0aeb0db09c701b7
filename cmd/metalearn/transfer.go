package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// placeholder: replaced by the transfer implementation
func newTransferCmd() *cobra.Command {
	return &cobra.Command{Use: "transfer", Short: "(being built)", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("transfer: not built yet") }}
}
