package image

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
	"github.com/berth-project/berth/internal/cli/progress"
	"github.com/distribution/reference"
	"github.com/spf13/cobra"
)

type importOptions struct {
	source    string
	reference string
	changes   *opts.List
	message   string
	platform  string
}

func newImportCommand(c *cli.Cli, use string) *cobra.Command {
	o := importOptions{changes: opts.NewList(nil)}
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
		Short: "Import the contents from a tarball to create a filesystem image",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.source = args[0]
			if len(args) > 1 {
				o.reference = args[1]
			}
			return runImport(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "image import, import")
	flags := cmd.Flags()
	flags.VarP(o.changes, "change", "c", "Apply Dockerfile instruction to the created image")
	flags.StringVarP(&o.message, "message", "m", "", "Set commit message for imported image")
	flags.StringVar(&o.platform, "platform", c.Getenv("DOCKER_DEFAULT_PLATFORM"), "Set platform if server is multi-platform capable")
	return cmd
}

func runImport(ctx context.Context, c *cli.Cli, o importOptions) error {
	var src client.ImportSource
	switch {
	case o.source == "-":
		src.Reader = c.In()
	case strings.HasPrefix(o.source, "http://"), strings.HasPrefix(o.source, "https://"):
		src.URL = o.source
	default:
		f, err := os.Open(o.source)
		if err != nil {
			return err
		}
		defer f.Close()
		src.Reader = f
	}
	if o.reference != "" {
		if _, err := reference.ParseNormalizedNamed(o.reference); err != nil {
			return err
		}
	}
	body, err := c.Client().ImageImport(ctx, src, client.ImportOptions{
		Repo:     o.reference,
		Message:  o.message,
		Changes:  o.changes.Values(),
		Platform: o.platform,
	})
	if err != nil {
		return err
	}
	defer body.Close()
	return progress.Display(io.Reader(body), c.Out(), c.Out().IsTerminal(), c.Out().Width(), nil)
}
