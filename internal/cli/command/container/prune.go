package container

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/opts"
	"github.com/spf13/cobra"
)

const pruneWarning = "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"

type pruneOptions struct {
	force  bool
	filter *opts.Filter
}

func newPruneCommand(c *cli.Cli) *cobra.Command {
	o := pruneOptions{filter: opts.NewFilter()}
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all stopped containers",
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
	if !o.force {
		ok, err := c.Confirm(ctx, pruneWarning)
		if err != nil {
			return err
		}
		if !ok {
			return cli.CancelledError{Reason: "container prune has been cancelled"}
		}
	}
	report, err := c.Client().ContainersPrune(ctx, o.filter.Args())
	if err != nil {
		return err
	}
	if len(report.ContainersDeleted) > 0 {
		var b strings.Builder
		b.WriteString("Deleted Containers:\n")
		for _, id := range report.ContainersDeleted {
			b.WriteString(id + "\n")
		}
		fmt.Fprintln(c.Out(), b.String())
	}
	fmt.Fprintln(c.Out(), "Total reclaimed space:", format.DiskSize(int64(report.SpaceReclaimed)))
	return nil
}
