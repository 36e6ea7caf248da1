package volume

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
)

func newPruneCommand(c *cli.Cli) *cobra.Command { return c.NewPruneCommand(Pruner(c)) }

// Pruner is `volume prune`, which `system prune --volumes` runs too.
func Pruner(c *cli.Cli) cli.Prune {
	return cli.Prune{
		Object: "volume", Short: "Remove unused local volumes",
		FilterHelp: `Provide filter values (e.g. "label=<label>")`,
		AllHelp:    "Remove all unused volumes, not just anonymous ones",
		Warning: func(all bool) string {
			if all {
				return "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?"
			}
			return "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?"
		},
		Run: func(ctx context.Context, all bool, filter *opts.Filter) (cli.Pruned, error) {
			f := filter.Args()
			if all {
				if f.Has("all") {
					return cli.Pruned{}, cli.StatusError{StatusCode: 125, Status: "conflicting options: cannot specify both --all and --filter all=1"}
				}
				f.Add("all", "true")
			}
			report, err := c.Client().VolumePrune(ctx, f)
			return cli.Pruned{Heading: "Deleted Volumes", Items: report.VolumesDeleted, Reclaimed: int64(report.SpaceReclaimed)}, err
		},
	}
}
