package volume

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/opts"
)

const (
	anonymousWarning = "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?"
	allWarning       = "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?"
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
		Short: "Remove unused local volumes",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPrune(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.all, "all", "a", false, "Remove all unused volumes, not just anonymous ones")
	flags.BoolVarP(&o.force, "force", "f", false, "Do not prompt for confirmation")
	flags.Var(o.filter, "filter", `Provide filter values (e.g. "label=<label>")`)
	return cmd
}

func runPrune(ctx context.Context, c *cli.Cli, o pruneOptions) error {
	f := o.filter.Args()
	if o.all {
		if f.Has("all") {
			return cli.StatusError{StatusCode: 125, Status: "conflicting options: cannot specify both --all and --filter all=1"}
		}
		f.Add("all", "true")
	}
	if !o.force {
		warning := anonymousWarning
		if o.all {
			warning = allWarning
		}
		ok, err := c.Confirm(ctx, warning)
		if err != nil {
			return err
		}
		if !ok {
			return cli.CancelledError{Reason: "volume prune has been cancelled"}
		}
	}
	report, err := c.Client().VolumePrune(ctx, f)
	if err != nil {
		return err
	}
	if len(report.VolumesDeleted) > 0 {
		fmt.Fprintf(c.Out(), "Deleted Volumes:\n%s\n\n", strings.Join(report.VolumesDeleted, "\n"))
	}
	fmt.Fprintln(c.Out(), "Total reclaimed space:", format.DiskSize(int64(report.SpaceReclaimed)))
	return nil
}
