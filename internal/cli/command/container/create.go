package container

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/progress"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/term"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newCreateCommand(c *cli.Cli, use string) *cobra.Command {
	var copts *containerOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create a new container",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreate(cmd.Context(), c, cmd.Flags(), copts, args, cmd.Root().Name())
		},
	}
	cli.WithAliases(cmd, "container create, create")
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	flags.Bool("help", false, "Print usage")
	copts = addContainerFlags(flags, `Pull image before creating ("always", "|missing", "never")`)
	return cmd
}

func runCreate(ctx context.Context, c *cli.Cli, flags *pflag.FlagSet, copts *containerOptions, args []string, bin string) error {
	if err := validatePull(copts.pull); err != nil {
		return usageError(bin, "create", err)
	}
	cfg, err := parse(flags, copts, args)
	if err != nil {
		return usageError(bin, "create", err)
	}
	if size, ok := consoleSize(c, cfg.Config.Tty); ok {
		cfg.HostConfig.ConsoleSize = size
	}
	id, err := createContainer(ctx, c, cfg, copts)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.Out(), id)
	return err
}

// createContainer creates the container, pulling its image first with --pull=always, or when
// the daemon does not have it with --pull=missing. It writes the ID to the --cidfile.
func createContainer(ctx context.Context, c *cli.Cli, cfg *containerConfig, copts *containerOptions) (string, error) {
	cid, err := newCIDFile(copts.cidFile)
	if err != nil {
		return "", err
	}
	defer cid.close()

	image := cfg.Config.Image
	var named reference.Named
	if ref, err := reference.ParseAnyReference(image); err == nil {
		if n, ok := ref.(reference.Named); ok {
			named = reference.TagNameOnly(n)
		}
	}
	pull := func() error {
		out := c.Err()
		if copts.quiet {
			out = io.Discard
		}
		return pullImage(ctx, c, image, client.FormatPlatform(cfg.Platform), out)
	}
	if copts.pull == pullAlways {
		if err := pull(); err != nil {
			return "", err
		}
	}

	create := func() (string, []string, error) {
		resp, err := c.Client().ContainerCreate(ctx, cfg.Config, cfg.HostConfig, cfg.NetworkingConfig, cfg.Platform, copts.name)
		return resp.ID, resp.Warnings, err
	}
	id, warnings, err := create()
	if err != nil {
		if !errdefs.IsNotFound(err) || named == nil || (copts.pull != pullMissing && copts.pull != "") {
			return "", err
		}
		if !copts.quiet {
			fmt.Fprintf(c.Err(), "Unable to find image '%s' locally\n", reference.FamiliarString(named))
		}
		if err := pull(); err != nil {
			return "", err
		}
		if id, warnings, err = create(); err != nil {
			return "", err
		}
	}
	for _, w := range warnings {
		fmt.Fprintf(c.Err(), "WARNING: %s\n", w)
	}
	if err := cid.write(id); err != nil {
		return "", err
	}
	return id, nil
}

// pullImage pulls image through the daemon, showing its progress on out.
func pullImage(ctx context.Context, c *cli.Cli, image, platform string, out io.Writer) error {
	auth, err := c.ConfigFile().RegistryAuth(image)
	if err != nil {
		return err
	}
	body, err := c.Client().ImagePull(ctx, image, client.PullOptions{Platform: platform, RegistryAuth: auth})
	if err != nil {
		return err
	}
	defer body.Close()
	fd, isTerm := term.GetFdInfo(out)
	width := 80
	if isTerm {
		if ws, err := term.GetWinsize(fd); err == nil && ws.Width > 0 {
			width = int(ws.Width)
		}
	}
	return progress.Display(body, out, isTerm, width, nil)
}

// cidFile is the --cidfile: created before the container, removed again unless an ID was
// written to it.
type cidFile struct {
	path    string
	file    *os.File
	written bool
}

func newCIDFile(path string) (*cidFile, error) {
	if path == "" {
		return &cidFile{}, nil
	}
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("container ID file found, make sure the other container isn't running or delete %s", path)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("failed to create the container ID file: %w", err)
	}
	return &cidFile{path: path, file: f}, nil
}

func (f *cidFile) write(id string) error {
	if f.file == nil {
		return nil
	}
	if _, err := f.file.WriteString(id); err != nil {
		return fmt.Errorf("failed to write the container ID to the file: %w", err)
	}
	f.written = true
	return nil
}

func (f *cidFile) close() {
	if f.file == nil {
		return
	}
	_ = f.file.Close()
	if !f.written {
		_ = os.Remove(f.path)
	}
}
