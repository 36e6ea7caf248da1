package compose

import (
	"context"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/compose"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
)

// serviceCommand is a command that loads the project (by name alone if need be) and acts on
// the named services.
func serviceCommand(c *cli.Cli, po *projectOptions, use, short string, run func(context.Context, *compose.Engine, *types.Project, []string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use + " [OPTIONS] [SERVICE...]",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := po.load(cmd.Context(), c, true)
			if err != nil {
				return err
			}
			return run(cmd.Context(), engine(c), p, args)
		},
	}
}

func newStartCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	return serviceCommand(c, po, "start", "Start services", func(ctx context.Context, e *compose.Engine, p *types.Project, s []string) error {
		return e.Start(ctx, p, s)
	})
}

func newStopCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	return timedCommand(c, po, "stop", "Stop services", (*compose.Engine).Stop)
}

func newRestartCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	return timedCommand(c, po, "restart", "Restart service containers", (*compose.Engine).Restart)
}

// timedCommand is a serviceCommand with -t/--timeout.
func timedCommand(c *cli.Cli, po *projectOptions, use, short string, run func(*compose.Engine, context.Context, *types.Project, []string, *int) error) *cobra.Command {
	var timeout func() *int
	cmd := serviceCommand(c, po, use, short, func(ctx context.Context, e *compose.Engine, p *types.Project, s []string) error {
		return run(e, ctx, p, s, timeout())
	})
	timeout = timeoutFlag(cmd)
	return cmd
}

func newKillCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var signal string
	cmd := serviceCommand(c, po, "kill", "Force stop service containers", func(ctx context.Context, e *compose.Engine, p *types.Project, s []string) error {
		return e.Kill(ctx, p, s, signal)
	})
	cmd.Flags().StringVarP(&signal, "signal", "s", "SIGKILL", "SIGNAL to send to the container")
	return cmd
}

func newPauseCommand(c *cli.Cli, po *projectOptions, pause bool) *cobra.Command {
	use, short := "pause", "Pause services"
	if !pause {
		use, short = "unpause", "Unpause services"
	}
	return serviceCommand(c, po, use, short, func(ctx context.Context, e *compose.Engine, p *types.Project, s []string) error {
		return e.Pause(ctx, p, s, pause)
	})
}

func newRmCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var force, stop, volumes bool
	cmd := serviceCommand(c, po, "rm", "Removes stopped service containers", func(ctx context.Context, e *compose.Engine, p *types.Project, s []string) error {
		return e.Remove(ctx, p, s, stop, volumes)
	})
	flags := cmd.Flags()
	flags.BoolVarP(&force, "force", "f", false, "Don't ask to confirm removal")
	flags.BoolVarP(&stop, "stop", "s", false, "Stop the containers, if required, before removing")
	flags.BoolVarP(&volumes, "volumes", "v", false, "Remove any anonymous volumes attached to containers")
	return cmd
}
