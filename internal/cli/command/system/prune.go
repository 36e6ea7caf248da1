package system

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/command/builder"
	"github.com/berth-project/berth/internal/cli/command/container"
	"github.com/berth-project/berth/internal/cli/command/image"
	"github.com/berth-project/berth/internal/cli/command/network"
	"github.com/berth-project/berth/internal/cli/command/volume"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/opts"
)

// newPruneCommand is `system prune`: the container, network, (volume,) image and build cache
// prunes in docker's order, with one question first and one total at the end.
func newPruneCommand(c *cli.Cli) *cobra.Command {
	var all, force, volumes bool
	filter := opts.NewFilter()
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.ConfirmPrune(cmd.Context(), force, pruneWarning(all, volumes, filter), "system prune has been cancelled"); err != nil {
				return err
			}
			pruners := []cli.Prune{container.Pruner(c), network.Pruner(c)}
			if volumes {
				pruners = append(pruners, volume.Pruner(c))
			}
			pruners = append(pruners, image.Pruner(c), builder.Pruner(c))
			var total int64
			for _, p := range pruners {
				// Anonymous volumes only, as docker's system prune: -a is for images and cache.
				r, err := p.Run(cmd.Context(), all && p.Object != "volume", filter)
				if err != nil {
					return err
				}
				c.PrintPruned(r.Heading, r.Items, -1)
				total += max(r.Reclaimed, 0)
			}
			fmt.Fprintln(c.Out(), "Total reclaimed space:", format.DiskSize(total))
			return nil
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&all, "all", "a", false, "Remove all unused images not just dangling ones")
	flags.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	flags.BoolVar(&volumes, "volumes", false, "Prune anonymous volumes")
	flags.Var(filter, "filter", `Provide filter values (e.g. "label=<key>=<value>")`)
	return cmd
}

// pruneWarning is docker's question for system prune.
func pruneWarning(all, volumes bool, filter *opts.Filter) string {
	items := []string{"all stopped containers", "all networks not used by at least one container"}
	if volumes {
		items = append(items, "all anonymous volumes not used by at least one container")
	}
	if all {
		items = append(items, "all images without at least one container associated to them", "all build cache")
	} else {
		items = append(items, "all dangling images", "unused build cache")
	}
	var b strings.Builder
	b.WriteString("WARNING! This will remove:\n")
	for _, it := range items {
		b.WriteString("  - " + it + "\n")
	}
	if f := filter.String(); f != "" {
		b.WriteString("\n  Items to be pruned will be filtered with:\n")
		for _, kv := range strings.Split(f, " ") {
			b.WriteString("  - " + kv + "\n")
		}
	}
	b.WriteString("\nAre you sure you want to continue?")
	return b.String()
}
