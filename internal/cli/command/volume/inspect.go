package volume

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/inspect"
)

type inspectOptions struct {
	names  []string
	format string
}

func newInspectCommand(c *cli.Cli) *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.names = args
			return runInspect(cmd.Context(), c, o)
		},
	}
	cmd.Flags().StringVarP(&o.format, "format", "f", "", `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`)
	return cmd
}

func runInspect(ctx context.Context, c *cli.Cli, o inspectOptions) error {
	return inspect.Print(c.Out(), o.names, o.format, func(name string) (any, []byte, error) {
		return Get(ctx, c, name)
	})
}

// Get fetches one volume for the inspect commands.
func Get(ctx context.Context, c *cli.Cli, name string) (any, []byte, error) {
	v, raw, err := c.Client().VolumeInspect(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	return v, raw, nil
}
