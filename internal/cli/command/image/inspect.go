package image

import (
	"context"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/inspect"
	"github.com/spf13/cobra"
)

type inspectOptions struct {
	refs   []string
	format string
}

func newInspectCommand(c *cli.Cli) *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] IMAGE [IMAGE...]",
		Short: "Display detailed information on one or more images",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.refs = args
			return runInspect(cmd.Context(), c, o)
		},
	}
	cmd.Flags().StringVarP(&o.format, "format", "f", "", inspectFormatHelp)
	return cmd
}

func runInspect(ctx context.Context, c *cli.Cli, o inspectOptions) error {
	return inspect.Print(c.Out(), o.refs, o.format, func(ref string) (any, []byte, error) {
		return Get(ctx, c, ref)
	})
}

// Get fetches one image for the inspect commands.
func Get(ctx context.Context, c *cli.Cli, ref string) (any, []byte, error) {
	img, raw, err := c.Client().ImageInspect(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	return img, raw, nil
}
