package volume

import (
	"context"
	"fmt"

	"github.com/moby/moby/api/types/volume"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
)

type createOptions struct {
	name    string
	driver  string
	options *opts.Map
	labels  *opts.List
}

func newCreateCommand(c *cli.Cli) *cobra.Command {
	o := createOptions{options: opts.NewMap(nil), labels: opts.NewNormalizedList(opts.ValidateLabel)}
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume",
		Args:  cli.RequiresMaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.name = args[0]
			}
			return runCreate(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&o.driver, "driver", "d", "local", "Specify volume driver name")
	flags.VarP(o.options, "opt", "o", "Set driver specific options")
	flags.Var(o.labels, "label", "Set metadata for a volume")
	return cmd
}

func runCreate(ctx context.Context, c *cli.Cli, o createOptions) error {
	v, err := c.Client().VolumeCreate(ctx, volume.CreateRequest{
		Name: o.name, Driver: o.driver, DriverOpts: o.options.Values(), Labels: opts.KeyValueMap(o.labels.Values()),
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.Out(), v.Name)
	return err
}
