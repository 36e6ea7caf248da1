package container

import (
	"context"
	"errors"
	"strings"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type stopOptions struct {
	containers []string
	signal     string
	timeout    int
}

// addStopFlags defines -s and -t of stop and restart.
func addStopFlags(flags *pflag.FlagSet, o *stopOptions) {
	flags.StringVarP(&o.signal, "signal", "s", "", "Signal to send to the container")
	flags.IntVarP(&o.timeout, "timeout", "t", 0, "Seconds to wait before killing the container")
	flags.IntVar(&o.timeout, "time", 0, "Seconds to wait before killing the container (deprecated: use --timeout)")
	_ = flags.MarkHidden("time")
}

func (o stopOptions) client(flags *pflag.FlagSet) client.StopOptions {
	so := client.StopOptions{Signal: o.signal}
	if flags.Changed("timeout") || flags.Changed("time") {
		t := o.timeout
		so.Timeout = &t
	}
	return so
}

func newStopCommand(c *cli.Cli, use string) *cobra.Command {
	var o stopOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Stop one or more running containers",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			so := o.client(cmd.Flags())
			return forEach(cmd.Context(), c, args, func(ctx context.Context, ref string) error {
				return c.Client().ContainerStop(ctx, ref, so)
			})
		},
	}
	cli.WithAliases(cmd, "container stop, stop")
	addStopFlags(cmd.Flags(), &o)
	return cmd
}

func newRestartCommand(c *cli.Cli, use string) *cobra.Command {
	var o stopOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			so := o.client(cmd.Flags())
			return forEach(cmd.Context(), c, args, func(ctx context.Context, ref string) error {
				return c.Client().ContainerRestart(ctx, ref, so)
			})
		},
	}
	cli.WithAliases(cmd, "container restart, restart")
	addStopFlags(cmd.Flags(), &o)
	return cmd
}

func newKillCommand(c *cli.Cli, use string) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEach(cmd.Context(), c, args, func(ctx context.Context, ref string) error {
				return c.Client().ContainerKill(ctx, ref, signal)
			})
		},
	}
	cli.WithAliases(cmd, "container kill, kill")
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "Signal to send to the container")
	return cmd
}

func newPauseCommand(c *cli.Cli, use string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " CONTAINER [CONTAINER...]",
		Short: "Pause all processes within one or more containers",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEach(cmd.Context(), c, args, c.Client().ContainerPause)
		},
	}
	return cli.WithAliases(cmd, "container pause, pause")
}

func newUnpauseCommand(c *cli.Cli, use string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " CONTAINER [CONTAINER...]",
		Short: "Unpause all processes within one or more containers",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEach(cmd.Context(), c, args, c.Client().ContainerUnpause)
		},
	}
	return cli.WithAliases(cmd, "container unpause, unpause")
}

type removeOptions struct {
	force, volumes, links bool
}

func newRemoveCommand(c *cli.Cli, use string, aliases ...string) *cobra.Command {
	var o removeOptions
	cmd := &cobra.Command{
		Use:     use + " [OPTIONS] CONTAINER [CONTAINER...]",
		Aliases: aliases,
		Short:   "Remove one or more containers",
		Args:    cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRemove(cmd.Context(), c, o, args)
		},
	}
	cli.WithAliases(cmd, "container rm, container remove, rm")
	flags := cmd.Flags()
	flags.BoolVarP(&o.force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	flags.BoolVarP(&o.links, "link", "l", false, "Remove the specified link")
	flags.BoolVarP(&o.volumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
	return cmd
}

func runRemove(ctx context.Context, c *cli.Cli, o removeOptions, refs []string) error {
	ro := client.RemoveOptions{Force: o.force, RemoveVolumes: o.volumes, RemoveLinks: o.links}
	return forEachRef(ctx, c, refs, func(ctx context.Context, ref string) (bool, error) {
		name := strings.Trim(ref, "/")
		if name == "" {
			return false, errors.New("Container name cannot be empty")
		}
		err := c.Client().ContainerRemove(ctx, name, ro)
		if err != nil && o.force && errdefs.IsNotFound(err) {
			// rm -f of a container that is not there is not a failure.
			return false, nil
		}
		return err == nil, err
	})
}
