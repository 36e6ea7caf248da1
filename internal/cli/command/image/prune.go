package image

import (
	"context"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
)

func newPruneCommand(c *cli.Cli) *cobra.Command { return c.NewPruneCommand(Pruner(c)) }

// Pruner is `image prune`, which `system prune` runs too.
func Pruner(c *cli.Cli) cli.Prune {
	return cli.Prune{
		Object: "image", Short: "Remove unused images",
		FilterHelp: `Provide filter values (e.g. "until=<timestamp>")`,
		AllHelp:    "Remove all unused images, not just dangling ones",
		Warning: func(all bool) string {
			if all {
				return "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"
			}
			return "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
		},
		Run: func(ctx context.Context, all bool, filter *opts.Filter) (cli.Pruned, error) {
			f := filter.Args()
			delete(f, "dangling")
			f.Add("dangling", strconv.FormatBool(!all))
			report, err := c.Client().ImagePrune(ctx, f)
			if err != nil {
				return cli.Pruned{}, err
			}
			var items []string
			for _, d := range report.ImagesDeleted {
				if d.Untagged != "" {
					items = append(items, "untagged: "+d.Untagged)
				} else if d.Deleted != "" {
					items = append(items, "deleted: "+d.Deleted)
				}
			}
			return cli.Pruned{Heading: "Deleted Images", Items: items, Reclaimed: int64(report.SpaceReclaimed)}, nil
		},
	}
}
