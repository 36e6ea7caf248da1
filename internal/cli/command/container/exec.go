package container

import (
	"context"
	"errors"
	"time"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/term"
	"github.com/spf13/cobra"
)

type execOptions struct {
	container   string
	command     []string
	interactive bool
	tty         bool
	detach      bool
	user        string
	workdir     string
	privileged  bool
	detachKeys  string
	env         *opts.List
	envFile     *opts.List
}

func newExecCommand(c *cli.Cli, use string) *cobra.Command {
	o := execOptions{env: opts.NewNormalizedList(opts.ValidateEnv), envFile: opts.NewList(nil)}
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Execute a command in a running container",
		Args:  cli.RequiresMinArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.container, o.command = args[0], args[1:]
			return runExec(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "container exec, exec")
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	flags.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	flags.BoolVarP(&o.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	flags.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	flags.BoolVarP(&o.detach, "detach", "d", false, "Detached mode: run command in the background")
	flags.StringVarP(&o.user, "user", "u", "", `Username or UID (format: "<name|uid>[:<group|gid>]")`)
	flags.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to the command")
	flags.VarP(o.env, "env", "e", "Set environment variables")
	flags.Var(o.envFile, "env-file", "Read in a file of environment variables")
	flags.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	return cmd
}

func runExec(ctx context.Context, c *cli.Cli, o execOptions) error {
	env, err := opts.ReadEnvFiles(o.envFile.Values())
	if err != nil {
		return err
	}
	env = append(env, o.env.Values()...)
	req := container.ExecCreateRequest{
		User:         o.user,
		Privileged:   o.privileged,
		Tty:          o.tty,
		AttachStdin:  o.interactive,
		AttachStdout: true,
		AttachStderr: true,
		DetachKeys:   detachKeys(c, o.detachKeys),
		Env:          env,
		WorkingDir:   o.workdir,
		Cmd:          o.command,
	}
	if o.detach {
		req.AttachStdin, req.AttachStdout, req.AttachStderr = false, false, false
	} else if req.AttachStdin && req.Tty && !c.In().IsTerminal() {
		return errors.New("the input device is not a TTY")
	}
	if size, ok := consoleSize(c, o.tty); ok {
		req.ConsoleSize = &size
	}

	// A missing container is reported as such, before the exec is set up.
	if _, _, err := c.Client().ContainerInspect(ctx, o.container, false); err != nil {
		return err
	}
	created, err := c.Client().ExecCreate(ctx, o.container, req)
	if err != nil {
		return err
	}
	if created.ID == "" {
		return errors.New("exec ID empty")
	}
	start := container.ExecStartRequest{Detach: o.detach, Tty: o.tty, ConsoleSize: req.ConsoleSize}
	if o.detach {
		_, err := c.Client().ExecStart(ctx, created.ID, start)
		return err
	}

	streamCtx, cancelStream := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStream()
	resp, err := c.Client().ExecStart(streamCtx, created.ID, start)
	if err != nil {
		return err
	}
	defer resp.Close()
	if o.tty && c.Out().IsTerminal() {
		monitorTTYSize(streamCtx, c, func(ctx context.Context, h, w uint) error {
			return c.Client().ExecResize(ctx, created.ID, h, w)
		})
	}
	err = streamHijacked(streamCtx, c, resp, streamOptions{
		stdin: req.AttachStdin, stdout: true, stderr: true, tty: o.tty, detachKeys: req.DetachKeys,
	})
	if err != nil {
		var esc term.EscapeError
		if errors.As(err, &esc) {
			return nil
		}
		return err
	}
	return execExitStatus(ctx, c, created.ID)
}

// execExitPolls bounds how often the exit code is asked for when the stream ended before the
// daemon recorded the exit.
const execExitPolls = 20

// execExitStatus ends the CLI with the exec's exit code.
func execExitStatus(ctx context.Context, c *cli.Cli, execID string) error {
	ctx = context.WithoutCancel(ctx)
	for i := 0; ; i++ {
		info, err := c.Client().ExecInspect(ctx, execID)
		if err != nil {
			return err
		}
		if info.ExitCode != nil {
			return exitStatus(*info.ExitCode)
		}
		if !info.Running || i >= execExitPolls {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}
