package network

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
)

const pruneWarning = "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?"

type pruneOptions struct {
	force  bool
	filter *opts.Filter
}

func newPruneCommand(c *cli.Cli) *cobra.Command {
	o := pruneOptions{filter: opts.NewFilter()}
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all unused networks",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPrune(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.force, "force", "f", false, "Do not prompt for confirmation")
	flags.Var(o.filter, "filter", `Provide filter values (e.g. "until=<timestamp>")`)
	return cmd
}

func runPrune(ctx context.Context, c *cli.Cli, o pruneOptions) error {
	if err := c.ConfirmPrune(ctx, o.force, pruneWarning, "network prune has been cancelled"); err != nil {
		return err
	}
	report, err := c.Client().NetworkPrune(ctx, o.filter.Args())
	if err != nil {
		return err
	}
	// Docker prints the list with a blank line after it, and nothing when none went.
	if len(report.NetworksDeleted) > 0 {
		fmt.Fprintf(c.Out(), "Deleted Networks:\n%s\n\n", strings.Join(report.NetworksDeleted, "\n"))
	}
	return nil
}
