package image

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/spf13/cobra"
)

type removeOptions struct {
	images  []string
	force   bool
	noPrune bool
}

func newRemoveCommand(c *cli.Cli, use string, aliases ...string) *cobra.Command {
	var o removeOptions
	cmd := &cobra.Command{
		Use:     use + " [OPTIONS] IMAGE [IMAGE...]",
		Aliases: aliases,
		Short:   "Remove one or more images",
		Args:    cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.images = args
			return runRemove(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "image rm, image remove, rmi")
	flags := cmd.Flags()
	flags.BoolVarP(&o.force, "force", "f", false, "Force removal of the image")
	flags.BoolVar(&o.noPrune, "no-prune", false, "Do not delete untagged parents")
	return cmd
}

// runRemove removes each image in turn, printing what was untagged and deleted. Failures do not
// stop it; they are reported together at the end. With --force, images that do not exist are
// reported but do not fail the command.
func runRemove(ctx context.Context, c *cli.Cli, o removeOptions) error {
	var (
		failures []string
		fatal    bool
	)
	for _, name := range o.images {
		dels, err := c.Client().ImageRemove(ctx, name, o.force, o.noPrune)
		if err != nil {
			if !errdefs.IsNotFound(err) {
				fatal = true
			}
			failures = append(failures, cli.ErrorText(err))
			continue
		}
		for _, d := range dels {
			if d.Deleted != "" {
				fmt.Fprintf(c.Out(), "Deleted: %s\n", d.Deleted)
			} else if d.Untagged != "" {
				fmt.Fprintf(c.Out(), "Untagged: %s\n", d.Untagged)
			}
		}
	}
	if len(failures) == 0 {
		return nil
	}
	msg := strings.Join(failures, "\n")
	if !o.force || fatal {
		return cli.StatusError{StatusCode: 1, Status: msg}
	}
	fmt.Fprintln(c.Err(), msg)
	return nil
}
