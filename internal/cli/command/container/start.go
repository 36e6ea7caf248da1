package container

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/moby/term"
	"github.com/spf13/cobra"
)

type startOptions struct {
	containers    []string
	attach        bool
	openStdin     bool
	detachKeys    string
	checkpoint    string
	checkpointDir string
}

func newStartCommand(c *cli.Cli, use string) *cobra.Command {
	var o startOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.containers = args
			return runStart(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "container start, start")
	flags := cmd.Flags()
	flags.BoolVarP(&o.attach, "attach", "a", false, "Attach STDOUT/STDERR and forward signals")
	flags.BoolVarP(&o.openStdin, "interactive", "i", false, "Attach container's STDIN")
	flags.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	flags.StringVar(&o.checkpoint, "checkpoint", "", "Restore from this checkpoint")
	flags.StringVar(&o.checkpointDir, "checkpoint-dir", "", "Use a custom checkpoint storage directory")
	return cmd
}

func runStart(ctx context.Context, c *cli.Cli, o startOptions) error {
	if !o.attach && !o.openStdin {
		var failed []string
		for _, ref := range o.containers {
			err := c.Client().ContainerStart(ctx, ref, client.StartOptions{CheckpointID: o.checkpoint, CheckpointDir: o.checkpointDir})
			if err != nil {
				fmt.Fprintln(c.Err(), cli.ErrorText(err))
				failed = append(failed, ref)
				continue
			}
			fmt.Fprintln(c.Out(), ref)
		}
		if len(failed) > 0 {
			return fmt.Errorf("Error: failed to start containers: %s", strings.Join(failed, ", "))
		}
		return nil
	}

	if len(o.containers) > 1 {
		return errors.New("you cannot start and attach multiple containers at once")
	}
	info, _, err := c.Client().ContainerInspect(ctx, o.containers[0], false)
	if err != nil {
		return err
	}
	id := info.ID
	tty := info.Config != nil && info.Config.Tty
	stdin := o.openStdin && info.Config != nil && info.Config.OpenStdin
	autoRemove := info.HostConfig != nil && info.HostConfig.AutoRemove
	if !tty {
		defer forwardSignals(c, id)()
	}

	streamCtx, cancelStream := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStream()
	keys := detachKeys(c, o.detachKeys)
	resp, err := c.Client().ContainerAttach(streamCtx, id, client.AttachOptions{
		Stream: true, Stdin: stdin, Stdout: true, Stderr: true, DetachKeys: keys,
	})
	if err != nil {
		return err
	}
	defer resp.Close()
	streamErr := make(chan error, 1)
	go func() {
		streamErr <- streamHijacked(streamCtx, c, resp, streamOptions{stdin: stdin, stdout: true, stderr: true, tty: tty, detachKeys: keys})
	}()

	statusCtx, cancelStatus := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStatus()
	statusC := waitExit(statusCtx, c, id, autoRemove)

	if err := c.Client().ContainerStart(ctx, id, client.StartOptions{CheckpointID: o.checkpoint, CheckpointDir: o.checkpointDir}); err != nil {
		cancelStream()
		_ = resp.Close()
		<-streamErr
		if autoRemove {
			select {
			case <-statusC:
			case <-time.After(removalGrace):
			}
		}
		return err
	}
	if tty && c.Out().IsTerminal() {
		monitorTTYSize(statusCtx, c, func(ctx context.Context, h, w uint) error {
			return c.Client().ContainerResize(ctx, id, h, w)
		})
	}
	if err := <-streamErr; err != nil {
		var esc term.EscapeError
		if errors.As(err, &esc) {
			return nil
		}
		return err
	}
	return exitStatus(<-statusC)
}
