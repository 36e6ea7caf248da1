package container

import (
	"context"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/inspect"
	"github.com/spf13/cobra"
)

type inspectOptions struct {
	refs   []string
	format string
	size   bool
}

func newInspectCommand(c *cli.Cli) *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Display detailed information on one or more containers",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.refs = args
			return runInspect(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&o.format, "format", "f", "", inspectFormatHelp)
	flags.BoolVarP(&o.size, "size", "s", false, "Display total file sizes")
	return cmd
}

func runInspect(ctx context.Context, c *cli.Cli, o inspectOptions) error {
	return inspect.Print(c.Out(), o.refs, o.format, func(ref string) (any, []byte, error) {
		return Get(ctx, c, ref, o.size)
	})
}

// Get fetches one container for the inspect commands; size adds SizeRw and SizeRootFs.
func Get(ctx context.Context, c *cli.Cli, ref string, size bool) (any, []byte, error) {
	info, raw, err := c.Client().ContainerInspect(ctx, ref, size)
	if err != nil {
		return nil, nil, err
	}
	return info, raw, nil
}
