package container

import (
	"context"
	"errors"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/moby/moby/api/types/container"
	"github.com/spf13/cobra"
)

type attachOptions struct {
	container  string
	noStdin    bool
	sigProxy   bool
	detachKeys string
}

func newAttachCommand(c *cli.Cli, use string) *cobra.Command {
	var o attachOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.container = args[0]
			return runAttach(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "container attach, attach")
	flags := cmd.Flags()
	flags.BoolVar(&o.noStdin, "no-stdin", false, "Do not attach STDIN")
	flags.BoolVar(&o.sigProxy, "sig-proxy", true, "Proxy all received signals to the process")
	flags.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

// runningContainer inspects ref and refuses a container attach or exec cannot reach.
func runningContainer(ctx context.Context, c *cli.Cli, ref string) (container.InspectResponse, error) {
	info, _, err := c.Client().ContainerInspect(ctx, ref, false)
	if err != nil {
		return info, err
	}
	switch {
	case info.State == nil || !info.State.Running:
		return info, errors.New("You cannot attach to a stopped container, start it first")
	case info.State.Paused:
		return info, errors.New("You cannot attach to a paused container, unpause it first")
	case info.State.Restarting:
		return info, errors.New("You cannot attach to a restarting container, wait until it is running")
	}
	return info, nil
}

func runAttach(ctx context.Context, c *cli.Cli, o attachOptions) error {
	info, err := runningContainer(ctx, c, o.container)
	if err != nil {
		return err
	}
	tty := info.Config != nil && info.Config.Tty
	stdin := !o.noStdin && info.Config != nil && info.Config.OpenStdin
	if stdin && tty && !c.In().IsTerminal() {
		return errors.New("the input device is not a TTY")
	}
	if o.sigProxy && !tty {
		defer forwardSignals(c, info.ID)()
	}
	keys := detachKeys(c, o.detachKeys)
	streamCtx, cancelStream := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStream()
	resp, err := c.Client().ContainerAttach(streamCtx, info.ID, client.AttachOptions{
		Stream: true, Stdin: stdin, Stdout: true, Stderr: true, DetachKeys: keys,
	})
	if err != nil {
		return err
	}
	defer resp.Close()

	// The container may have stopped since the first look; attaching to it would block.
	if _, err := runningContainer(ctx, c, info.ID); err != nil {
		return err
	}
	statusCtx, cancelStatus := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStatus()
	resultC, errC := c.Client().ContainerWait(statusCtx, info.ID, "")

	if tty && c.Out().IsTerminal() {
		monitorTTYSize(statusCtx, c, func(ctx context.Context, h, w uint) error {
			return c.Client().ContainerResize(ctx, info.ID, h, w)
		})
	}
	// A detach (term.EscapeError, "read escape sequence") is returned as docker does.
	if err := streamHijacked(streamCtx, c, resp, streamOptions{stdin: stdin, stdout: true, stderr: true, tty: tty, detachKeys: keys}); err != nil {
		return err
	}
	select {
	case r := <-resultC:
		if r.Error != nil && r.Error.Message != "" {
			return errors.New(r.Error.Message)
		}
		return exitStatus(int(r.StatusCode))
	case err := <-errC:
		return err
	}
}
