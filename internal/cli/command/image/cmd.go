// Package image holds the image commands: ls, inspect, history, tag, rm, prune, load, save, import,
// pull, push.
package image

import (
	"github.com/berth-project/berth/internal/cli"
	"github.com/spf13/cobra"
)

// formatHelp is the --format usage text of list commands, as docker words it.
const formatHelp = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`

// inspectFormatHelp is the --format usage text of single-object commands.
const inspectFormatHelp = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`

// NewImageCommand is `berth image`, the group of image commands.
func NewImageCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  cli.NoArgs,
		RunE:  cli.ShowHelp(c),
	}
	cmd.AddCommand(
		newListCommand(c, "ls", "list"),
		newInspectCommand(c),
		newHistoryCommand(c, "history"),
		newTagCommand(c, "tag"),
		newRemoveCommand(c, "rm", "remove"),
		newPruneCommand(c),
		newLoadCommand(c, "load"),
		newSaveCommand(c, "save"),
		newImportCommand(c, "import"),
		newPullCommand(c, "pull"),
		newPushCommand(c, "push"),
	)
	return cmd
}

// Top-level shortcuts.

// NewImagesCommand is `berth images`.
func NewImagesCommand(c *cli.Cli) *cobra.Command { return newListCommand(c, "images") }

// NewHistoryCommand is `berth history`.
func NewHistoryCommand(c *cli.Cli) *cobra.Command { return newHistoryCommand(c, "history") }

// NewTagCommand is `berth tag`.
func NewTagCommand(c *cli.Cli) *cobra.Command { return newTagCommand(c, "tag") }

// NewRemoveCommand is `berth rmi`.
func NewRemoveCommand(c *cli.Cli) *cobra.Command { return newRemoveCommand(c, "rmi") }

// NewLoadCommand is `berth load`.
func NewLoadCommand(c *cli.Cli) *cobra.Command { return newLoadCommand(c, "load") }

// NewSaveCommand is `berth save`.
func NewSaveCommand(c *cli.Cli) *cobra.Command { return newSaveCommand(c, "save") }

// NewPullCommand is `berth pull`.
func NewPullCommand(c *cli.Cli) *cobra.Command { return newPullCommand(c, "pull") }

// NewPushCommand is `berth push`.
func NewPushCommand(c *cli.Cli) *cobra.Command { return newPushCommand(c, "push") }

// NewImportCommand is `berth import`.
func NewImportCommand(c *cli.Cli) *cobra.Command { return newImportCommand(c, "import") }
