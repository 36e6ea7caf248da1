package compose

import (
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/compose"
	"github.com/spf13/cobra"
)

func newDownCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var o compose.DownOptions
	cmd := &cobra.Command{
		Use:   "down [OPTIONS] [SERVICES]",
		Short: "Stop and remove containers, networks",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := po.load(cmd.Context(), c, true)
			if err != nil {
				return err
			}
			return engine(c).Down(cmd.Context(), p, o)
		},
	}
	timeout := timeoutFlag(cmd)
	cmd.PreRun = func(*cobra.Command, []string) { o.Timeout = timeout() }
	flags := cmd.Flags()
	flags.BoolVarP(&o.Volumes, "volumes", "v", false, "Remove named volumes declared in the \"volumes\" section of the Compose file and anonymous volumes attached to containers")
	flags.BoolVar(&o.RemoveOrphans, "remove-orphans", false, "Remove containers for services not defined in the Compose file")
	flags.StringVar(&o.Images, "rmi", "", `Remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all")`)
	return cmd
}
