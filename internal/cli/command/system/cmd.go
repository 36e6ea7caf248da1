// Package system holds the daemon-wide commands: version, info, events, system df and prune,
// and the generic inspect.
package system

import (
	"github.com/berth-project/berth/internal/cli"
	"github.com/spf13/cobra"
)

const inspectFormatHelp = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`

const tableFormatHelp = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`

// NewSystemCommand is `berth system`.
func NewSystemCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "system",
		Short: "Manage berth",
		Args:  cli.NoArgs,
		RunE:  cli.ShowHelp(c),
	}
	cmd.AddCommand(
		newInfoCommand(c, "info"),
		newDiskUsageCommand(c),
		NewEventsCommand(c),
		newPruneCommand(c),
	)
	return cmd
}
