package volume

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
)

type removeOptions struct {
	names []string
	force bool
}

func newRemoveCommand(c *cli.Cli) *cobra.Command {
	var o removeOptions
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes",
		Long:    "Remove one or more volumes. You cannot remove a volume that is in use by a container.",
		Args:    cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.names = args
			return runRemove(cmd.Context(), c, o)
		},
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "Force the removal of one or more volumes")
	return cmd
}

// runRemove removes each volume in turn, printing its name; failures are reported together at the end.
func runRemove(ctx context.Context, c *cli.Cli, o removeOptions) error {
	var failures []string
	for _, name := range o.names {
		if err := c.Client().VolumeRemove(ctx, name, o.force); err != nil {
			failures = append(failures, cli.ErrorText(err))
			continue
		}
		fmt.Fprintln(c.Out(), name)
	}
	if len(failures) > 0 {
		return cli.StatusError{StatusCode: 1, Status: strings.Join(failures, "\n")}
	}
	return nil
}
