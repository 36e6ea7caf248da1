package compose

import (
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/compose"
	"github.com/spf13/cobra"
)

func newLogsCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var o compose.LogOptions
	var noColor bool
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] [SERVICE...]",
		Short: "View output from containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := po.load(cmd.Context(), c, true)
			if err != nil {
				return err
			}
			o.Color = po.color(c) && !noColor
			return engine(c).Logs(cmd.Context(), p, args, c.Out(), o)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.Follow, "follow", "f", false, "Follow log output")
	flags.StringVarP(&o.Tail, "tail", "n", "all", "Number of lines to show from the end of the logs for each container")
	flags.BoolVarP(&o.Timestamps, "timestamps", "t", false, "Show timestamps")
	flags.StringVar(&o.Since, "since", "", "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	flags.StringVar(&o.Until, "until", "", "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	flags.BoolVar(&o.NoPrefix, "no-log-prefix", false, "Don't print prefix in logs")
	flags.BoolVar(&noColor, "no-color", false, "Produce monochrome output")
	return cmd
}
