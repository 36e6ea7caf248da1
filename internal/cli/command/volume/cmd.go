// Package volume holds the volume commands: create, ls, inspect, rm, prune, and berth's export
// and import.
package volume

import (
	"github.com/berth-project/berth/internal/cli"
	"github.com/spf13/cobra"
)

// NewVolumeCommand is `berth volume`, the group of volume commands.
func NewVolumeCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "volume COMMAND",
		Short: "Manage volumes",
		Args:  cli.NoArgs,
		RunE:  cli.ShowHelp(c),
	}
	cmd.AddCommand(
		newCreateCommand(c),
		newListCommand(c),
		newInspectCommand(c),
		newRemoveCommand(c),
		newPruneCommand(c),
		newExportCommand(c),
		newImportCommand(c),
	)
	return cmd
}
