package network

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
)

func newPruneCommand(c *cli.Cli) *cobra.Command {
	return c.NewPruneCommand(cli.Prune{
		Object: "network", Short: "Remove all unused networks",
		FilterHelp: `Provide filter values (e.g. "until=<timestamp>")`,
		Warning: func(bool) string {
			return "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?"
		},
		Run: func(ctx context.Context, _ bool, filter *opts.Filter) error {
			report, err := c.Client().NetworkPrune(ctx, filter.Args())
			if err != nil {
				return err
			}
			c.PrintPruned("Deleted Networks", report.NetworksDeleted, -1) // networks free no space
			return nil
		},
	})
}
