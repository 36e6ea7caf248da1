package network

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
)

func newPruneCommand(c *cli.Cli) *cobra.Command { return c.NewPruneCommand(Pruner(c)) }

// Pruner is `network prune`, which `system prune` runs too.
func Pruner(c *cli.Cli) cli.Prune {
	return cli.Prune{
		Object: "network", Short: "Remove all unused networks",
		FilterHelp: `Provide filter values (e.g. "until=<timestamp>")`,
		Warning: func(bool) string {
			return "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?"
		},
		Run: func(ctx context.Context, _ bool, filter *opts.Filter) (cli.Pruned, error) {
			report, err := c.Client().NetworkPrune(ctx, filter.Args())
			return cli.Pruned{Heading: "Deleted Networks", Items: report.NetworksDeleted, Reclaimed: -1}, err // networks free no space
		},
	}
}
