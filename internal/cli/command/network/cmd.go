// Package network holds the network commands: create, ls, inspect, rm, prune, connect and
// disconnect.
package network

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
)

// NewNetworkCommand is `berth network`, the group of network commands.
func NewNetworkCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network COMMAND",
		Short: "Manage networks",
		Args:  cli.NoArgs,
		RunE:  cli.ShowHelp(c),
	}
	cmd.AddCommand(
		newConnectCommand(c),
		newCreateCommand(c),
		newDisconnectCommand(c),
		newInspectCommand(c),
		newListCommand(c),
		newPruneCommand(c),
		newRemoveCommand(c),
	)
	return cmd
}
