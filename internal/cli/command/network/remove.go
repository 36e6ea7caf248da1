package network

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/errdefs"
)

type removeOptions struct {
	names []string
	force bool
}

func newRemoveCommand(c *cli.Cli) *cobra.Command {
	var o removeOptions
	cmd := &cobra.Command{
		Use:     "rm NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more networks",
		Args:    cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.names = args
			return runRemove(cmd.Context(), c, o)
		},
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "Do not error if the network does not exist")
	return cmd
}

// runRemove removes each network in turn, printing its name, and each failure as it happens
// (as docker does); any failure makes the exit status 1.
func runRemove(ctx context.Context, c *cli.Cli, o removeOptions) error {
	failed := false
	for _, name := range o.names {
		if err := c.Client().NetworkRemove(ctx, name); err != nil {
			if o.force && errdefs.IsNotFound(err) {
				continue
			}
			fmt.Fprintln(c.Err(), cli.ErrorText(err))
			failed = true
			continue
		}
		fmt.Fprintln(c.Out(), name)
	}
	if failed {
		return cli.StatusError{StatusCode: 1}
	}
	return nil
}
