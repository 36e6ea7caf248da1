package builder

import (
	"context"
	"fmt"

	"github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
)

// NewBuilderCommand is `berth builder` (build and prune).
func NewBuilderCommand(c *cli.Cli) *cobra.Command {
	cmd := &cobra.Command{Use: "builder", Short: "Manage builds", Args: cli.NoArgs, RunE: cli.ShowHelp(c)}
	cmd.AddCommand(NewBuildCommand(c), c.NewPruneCommand(cli.Prune{
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
		Run: func(ctx context.Context, all bool, filter *opts.Filter) error {
			rep, err := c.Client().BuildCachePrune(ctx, all, 0, filter.Args())
			if err != nil {
				return err
			}
			if len(rep.CachesDeleted) > 0 {
				fmt.Fprintln(c.Out(), "Deleted build cache objects:")
				for _, id := range rep.CachesDeleted {
					fmt.Fprintln(c.Out(), id)
				}
				fmt.Fprintln(c.Out())
			}
			fmt.Fprintf(c.Out(), "Total reclaimed space: %s\n", units.HumanSize(float64(rep.SpaceReclaimed)))
			return nil
		},
	}))
	return cmd
}
