package container

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/term"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runOptions are the flags run adds to create's.
type runOptions struct {
	detach     bool
	sigProxy   bool
	detachKeys string
}

// outputDrainGrace is how long run lets the output finish after the container exited.
const outputDrainGrace = 2 * time.Second

// removalGrace bounds how long a failed `run --rm` waits for the daemon to remove the container.
const removalGrace = 10 * time.Second

func newRunCommand(c *cli.Cli, use string) *cobra.Command {
	var (
		copts *containerOptions
		ro    runOptions
	)
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), c, cmd.Flags(), copts, ro, args, cmd.Root().Name())
		},
	}
	cli.WithAliases(cmd, "container run, run")
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	flags.Bool("help", false, "Print usage")
	flags.BoolVarP(&ro.detach, "detach", "d", false, "Run container in background and print container ID")
	flags.BoolVar(&ro.sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	flags.StringVar(&ro.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	copts = addContainerFlags(flags, `Pull image before running ("always", "missing", "never")`)
	return cmd
}

func runRun(ctx context.Context, c *cli.Cli, flags *pflag.FlagSet, copts *containerOptions, ro runOptions, args []string, bin string) error {
	if err := validatePull(copts.pull); err != nil {
		return usageError(bin, "run", err)
	}
	cfg, err := parse(flags, copts, args)
	if err != nil {
		return usageError(bin, "run", err)
	}
	config := cfg.Config
	if ro.detach {
		if copts.attach.Len() != 0 {
			return errors.New("conflicting options: cannot specify both --attach and --detach")
		}
		config.AttachStdin, config.AttachStdout, config.AttachStderr, config.StdinOnce = false, false, false, false
	} else if config.AttachStdin && config.Tty && !c.In().IsTerminal() {
		return errors.New("the input device is not a TTY")
	}
	if size, ok := consoleSize(c, config.Tty); ok {
		cfg.HostConfig.ConsoleSize = size
	}

	id, err := createContainer(ctx, c, cfg, copts)
	if err != nil {
		return runStatusError(bin, err)
	}
	attached := config.AttachStdin || config.AttachStdout || config.AttachStderr
	if attached && ro.sigProxy && !config.Tty {
		defer forwardSignals(c, id)()
	}

	// The stream and the wait outlive an interrupt of the CLI: signals go to the container (or,
	// with a TTY, keys to its terminal), and run ends when the container does.
	streamCtx, cancelStream := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStream()
	var (
		resp      client.HijackedResponse
		streamErr chan error
	)
	if attached {
		keys := detachKeys(c, ro.detachKeys)
		resp, err = c.Client().ContainerAttach(streamCtx, id, client.AttachOptions{
			Stream: true, Stdin: config.AttachStdin, Stdout: config.AttachStdout, Stderr: config.AttachStderr, DetachKeys: keys,
		})
		if err != nil {
			return runStatusError(bin, err)
		}
		defer resp.Close()
		streamErr = make(chan error, 1)
		go func() {
			streamErr <- streamHijacked(streamCtx, c, resp, streamOptions{
				stdin: config.AttachStdin, stdout: config.AttachStdout, stderr: config.AttachStderr,
				tty: config.Tty, detachKeys: keys,
			})
		}()
	}
	stopStream := func() {
		if attached {
			cancelStream()
			_ = resp.Close()
			<-streamErr
		}
	}

	statusCtx, cancelStatus := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStatus()
	var statusC <-chan int
	if attached || copts.autoRemove {
		statusC = waitExit(statusCtx, c, id, copts.autoRemove)
	}

	if err := c.Client().ContainerStart(ctx, id, client.StartOptions{}); err != nil {
		stopStream()
		if copts.autoRemove {
			select {
			case <-statusC:
			case <-time.After(removalGrace):
			}
		}
		return runStatusError(bin, err)
	}
	if !attached {
		_, err := fmt.Fprintln(c.Out(), id)
		return err
	}
	if config.Tty && c.Out().IsTerminal() {
		monitorTTYSize(statusCtx, c, func(ctx context.Context, h, w uint) error {
			return c.Client().ContainerResize(ctx, id, h, w)
		})
	}

	select {
	case err := <-streamErr:
		if err != nil {
			var esc term.EscapeError
			if errors.As(err, &esc) {
				// Detached: the container keeps running.
				return nil
			}
			return err
		}
		return exitStatus(<-statusC)
	case status := <-statusC:
		select {
		case <-streamErr:
		case <-time.After(outputDrainGrace):
			stopStream()
		}
		return exitStatus(status)
	}
}

// exitStatus ends the CLI with the container's exit status.
func exitStatus(status int) error {
	if status == 0 {
		return nil
	}
	return cli.StatusError{StatusCode: status}
}

// waitExit waits for the container's next exit (or its removal) and delivers its exit status, or
// 125 when waiting failed.
func waitExit(ctx context.Context, c *cli.Cli, id string, removed bool) <-chan int {
	condition := container.WaitConditionNextExit
	if removed {
		condition = container.WaitConditionRemoved
	}
	resultC, errC := c.Client().ContainerWait(ctx, id, condition)
	statusC := make(chan int, 1)
	go func() {
		select {
		case r := <-resultC:
			if r.Error != nil && r.Error.Message != "" {
				fmt.Fprintf(c.Err(), "Error waiting for container: %s\n", r.Error.Message)
				statusC <- exitEngine
				return
			}
			statusC <- int(r.StatusCode)
		case err := <-errC:
			if ctx.Err() == nil {
				fmt.Fprintf(c.Err(), "Error waiting for container: %s\n", cli.ErrorText(err))
			}
			statusC <- exitEngine
		}
	}()
	return statusC
}
