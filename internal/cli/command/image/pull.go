package image

import (
	"context"
	"fmt"
	"io"

	"github.com/distribution/reference"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/progress"
)

type pullOptions struct {
	image    string
	all      bool
	platform string
	quiet    bool
}

func newPullCommand(c *cli.Cli, use string) *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.image = args[0]
			return runPull(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "image pull, pull")
	flags := cmd.Flags()
	flags.BoolVarP(&o.all, "all-tags", "a", false, "Download all tagged images in the repository")
	flags.StringVar(&o.platform, "platform", c.Getenv("DOCKER_DEFAULT_PLATFORM"), "Set platform if server is multi-platform capable")
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress verbose output")
	flags.Bool("disable-content-trust", true, "Skip image verification")
	return cmd
}

func runPull(ctx context.Context, c *cli.Cli, o pullOptions) error {
	named, auth, err := registryTarget(c, o.image, o.all, o.quiet)
	if err != nil {
		return err
	}
	body, err := c.Client().ImagePull(ctx, named.String(), client.PullOptions{Platform: o.platform, RegistryAuth: auth, All: o.all})
	if err != nil {
		return err
	}
	defer body.Close()
	if err := showProgress(c, body, o.quiet); err != nil {
		return err
	}
	fmt.Fprintln(c.Out(), named.String())
	return nil
}

// registryTarget is what pull and push send for image: its name (tagged latest when it has no tag
// and all is not set, which is said unless quiet) and the stored credentials of its registry.
func registryTarget(c *cli.Cli, image string, all, quiet bool) (reference.Named, string, error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return nil, "", err
	}
	if all && !reference.IsNameOnly(named) {
		return nil, "", fmt.Errorf("tag can't be used with --all-tags/-a")
	}
	if !all && reference.IsNameOnly(named) {
		named = reference.TagNameOnly(named)
		if !quiet {
			fmt.Fprintln(c.Out(), "Using default tag: latest")
		}
	}
	auth, err := c.ConfigFile().RegistryAuth(named.String())
	return named, auth, err
}

// showProgress renders a pull or push stream like docker: per-layer bars on a terminal, status
// lines elsewhere, nothing when quiet (an error still ends the command).
func showProgress(c *cli.Cli, body io.Reader, quiet bool) error {
	out := io.Writer(c.Out())
	if quiet {
		out = io.Discard
	}
	return progress.Display(body, out, !quiet && c.Out().IsTerminal(), c.Out().Width(), nil)
}
