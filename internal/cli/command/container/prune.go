package container

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
)

func newPruneCommand(c *cli.Cli) *cobra.Command { return c.NewPruneCommand(Pruner(c)) }

// Pruner is `container prune`, which `system prune` runs too.
func Pruner(c *cli.Cli) cli.Prune {
	return cli.Prune{
		Object: "container", Short: "Remove all stopped containers",
		FilterHelp: `Provide filter values (e.g. "until=<timestamp>")`,
		Warning: func(bool) string {
			return "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"
		},
		Run: func(ctx context.Context, _ bool, filter *opts.Filter) (cli.Pruned, error) {
			report, err := c.Client().ContainersPrune(ctx, filter.Args())
			return cli.Pruned{Heading: "Deleted Containers", Items: report.ContainersDeleted, Reclaimed: int64(report.SpaceReclaimed)}, err
		},
	}
}
