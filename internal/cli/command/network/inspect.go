package network

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/inspect"
)

type inspectOptions struct {
	names   []string
	format  string
	verbose bool
}

func newInspectCommand(c *cli.Cli) *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NETWORK [NETWORK...]",
		Short: "Display detailed information on one or more networks",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.names = args
			return runInspect(cmd.Context(), c, o)
		},
	}
	cmd.Flags().StringVarP(&o.format, "format", "f", "", format.InspectHelp)
	cmd.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "Verbose output for diagnostics")
	return cmd
}

func runInspect(ctx context.Context, c *cli.Cli, o inspectOptions) error {
	return inspect.Print(c.Out(), o.names, o.format, func(name string) (any, []byte, error) {
		return Get(ctx, c, name, o.verbose)
	})
}

// Get fetches one network for the inspect commands.
func Get(ctx context.Context, c *cli.Cli, name string, verbose bool) (any, []byte, error) {
	n, raw, err := c.Client().NetworkInspect(ctx, name, client.NetworkInspectOptions{Verbose: verbose})
	if err != nil {
		return nil, nil, err
	}
	return n, raw, nil
}
