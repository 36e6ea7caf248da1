package builder

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
)

// NewBuilderCommand is `berth builder` (build and prune).
func NewBuilderCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{Use: "builder", Short: "Manage builds", Args: cli.NoArgs, RunE: cli.ShowHelp(c)}
	cmd.AddCommand(NewBuildCommand(c), c.NewPruneCommand(Pruner(c)))
	return cmd
}

// Pruner is `builder prune`, which `system prune` runs too.
func Pruner(c *cli.Cli) cli.Prune {
	return cli.Prune{
		Object:     "builder",
		Short:      "Remove build cache",
		FilterHelp: `Provide filter values (e.g. "until=24h")`,
		AllHelp:    "Remove all unused build cache, not just dangling ones",
		Warning: func(all bool) string {
			if all {
				return "WARNING! This will remove all build cache."
			}
			return "WARNING! This will remove all dangling build cache."
		},
		Run: func(ctx context.Context, all bool, filter *opts.Filter) (cli.Pruned, error) {
			rep, err := c.Client().BuildCachePrune(ctx, all, 0, filter.Args())
			return cli.Pruned{Heading: "Deleted build cache objects", Items: rep.CachesDeleted, Reclaimed: int64(rep.SpaceReclaimed)}, err
		},
	}
}
