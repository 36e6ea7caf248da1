package container

import (
	"context"
	"io"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/spf13/cobra"
)

type logsOptions struct {
	container  string
	follow     bool
	since      string
	until      string
	timestamps bool
	details    bool
	tail       string
}

func newLogsCommand(c *cli.Cli, use string) *cobra.Command {
	var o logsOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER",
		Short: "Fetch the logs of a container",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.container = args[0]
			return runLogs(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "container logs, logs")
	flags := cmd.Flags()
	flags.BoolVarP(&o.follow, "follow", "f", false, "Follow log output")
	flags.StringVar(&o.since, "since", "", `Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)`)
	flags.StringVar(&o.until, "until", "", `Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)`)
	flags.BoolVarP(&o.timestamps, "timestamps", "t", false, "Show timestamps")
	flags.BoolVar(&o.details, "details", false, "Show extra details provided to logs")
	flags.StringVarP(&o.tail, "tail", "n", "all", "Number of lines to show from the end of the logs")
	return cmd
}

func runLogs(ctx context.Context, c *cli.Cli, o logsOptions) error {
	info, _, err := c.Client().ContainerInspect(ctx, o.container, false)
	if err != nil {
		return err
	}
	body, err := c.Client().ContainerLogs(ctx, info.ID, client.LogsOptions{
		ShowStdout: true, ShowStderr: true, Since: o.since, Until: o.until,
		Timestamps: o.timestamps, Follow: o.follow, Tail: o.tail, Details: o.details,
	})
	if err != nil {
		return err
	}
	defer body.Close()
	if info.Config != nil && info.Config.Tty {
		_, err = io.Copy(c.Out(), body)
	} else {
		_, err = client.DemuxStream(c.Out(), c.Err(), body)
	}
	if err != nil && ctx.Err() != nil {
		// Interrupted while following: not a failure.
		return nil
	}
	return err
}
