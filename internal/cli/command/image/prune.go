package image

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/opts"
	"github.com/spf13/cobra"
)

const (
	danglingWarning = "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
	allWarning      = "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"
)

type pruneOptions struct {
	all    bool
	force  bool
	filter *opts.Filter
}

func newPruneCommand(c *cli.Cli) *cobra.Command {
	o := pruneOptions{filter: opts.NewFilter()}
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPrune(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.all, "all", "a", false, "Remove all unused images, not just dangling ones")
	flags.BoolVarP(&o.force, "force", "f", false, "Do not prompt for confirmation")
	flags.Var(o.filter, "filter", `Provide filter values (e.g. "until=<timestamp>")`)
	return cmd
}

func runPrune(ctx context.Context, c *cli.Cli, o pruneOptions) error {
	f := o.filter.Args()
	delete(f, "dangling")
	f.Add("dangling", strconv.FormatBool(!o.all))

	if !o.force {
		warning := danglingWarning
		if o.all {
			warning = allWarning
		}
		ok, err := c.Confirm(ctx, warning)
		if err != nil {
			return err
		}
		if !ok {
			return cli.CancelledError{Reason: "image prune has been cancelled"}
		}
	}

	report, err := c.Client().ImagePrune(ctx, f)
	if err != nil {
		return err
	}
	if len(report.ImagesDeleted) > 0 {
		var b strings.Builder
		b.WriteString("Deleted Images:\n")
		for _, d := range report.ImagesDeleted {
			if d.Untagged != "" {
				b.WriteString("untagged: " + d.Untagged + "\n")
			} else if d.Deleted != "" {
				b.WriteString("deleted: " + d.Deleted + "\n")
			}
		}
		fmt.Fprintln(c.Out(), b.String())
	}
	fmt.Fprintln(c.Out(), "Total reclaimed space:", format.DiskSize(int64(report.SpaceReclaimed)))
	return nil
}
