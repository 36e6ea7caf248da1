// Package container holds the container commands: create, run, start, stop, kill, restart, rm,
// ps, logs, wait, attach, exec, inspect, top, rename, pause, unpause, prune, port, commit, cp,
// diff, export, stats and update, as `container <verb>` and as top-level shortcuts.
package container

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

// NewContainerCommand is `berth container`, the group of container commands.
func NewContainerCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "container",
		Short: "Manage containers",
		Args:  cli.NoArgs,
		RunE:  cli.ShowHelp(c),
	}
	cmd.AddCommand(
		newAttachCommand(c, "attach"),
		newCommitCommand(c, "commit"),
		newCopyCommand(c, "cp"),
		newCreateCommand(c, "create"),
		newDiffCommand(c, "diff"),
		newExecCommand(c, "exec"),
		newExportCommand(c, "export"),
		newInspectCommand(c),
		newKillCommand(c, "kill"),
		newLogsCommand(c, "logs"),
		newListCommand(c, "ls", "list", "ps"),
		newPauseCommand(c, "pause"),
		newPortCommand(c, "port"),
		newPruneCommand(c),
		newRenameCommand(c, "rename"),
		newRestartCommand(c, "restart"),
		newRemoveCommand(c, "rm", "remove"),
		newRunCommand(c, "run"),
		newStartCommand(c, "start"),
		newStatsCommand(c, "stats"),
		newStopCommand(c, "stop"),
		newTopCommand(c, "top"),
		newUnpauseCommand(c, "unpause"),
		newUpdateCommand(c, "update"),
		newWaitCommand(c, "wait"),
	)
	return cmd
}

// TopLevelCommands are the shortcuts `berth run`, `berth ps`, ... of the container commands.
func TopLevelCommands(c *cli.Cli) []*cobra.Command {
	return []*cobra.Command{
		newAttachCommand(c, "attach"),
		newCommitCommand(c, "commit"),
		newCopyCommand(c, "cp"),
		newCreateCommand(c, "create"),
		newDiffCommand(c, "diff"),
		newExportCommand(c, "export"),
		newKillCommand(c, "kill"),
		newLogsCommand(c, "logs"),
		newPauseCommand(c, "pause"),
		newPortCommand(c, "port"),
		newRenameCommand(c, "rename"),
		newRestartCommand(c, "restart"),
		newRemoveCommand(c, "rm"),
		newStartCommand(c, "start"),
		newStatsCommand(c, "stats"),
		newStopCommand(c, "stop"),
		newTopCommand(c, "top"),
		newUnpauseCommand(c, "unpause"),
		newUpdateCommand(c, "update"),
		newWaitCommand(c, "wait"),
	}
}

// NewRunCommand is `berth run`.
func NewRunCommand(c *cli.Cli) *cobra.Command { return newRunCommand(c, "run") }

// NewExecCommand is `berth exec`.
func NewExecCommand(c *cli.Cli) *cobra.Command { return newExecCommand(c, "exec") }

// NewPsCommand is `berth ps`.
func NewPsCommand(c *cli.Cli) *cobra.Command { return newListCommand(c, "ps") }
