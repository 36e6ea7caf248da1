package image

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
)

type pushOptions struct {
	image string
	all   bool
	quiet bool
}

func newPushCommand(c *cli.Cli, use string) *cobra.Command {
	var o pushOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] NAME[:TAG]",
		Short: "Upload an image to a registry",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.image = args[0]
			return runPush(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "image push, push")
	flags := cmd.Flags()
	flags.BoolVarP(&o.all, "all-tags", "a", false, "Push all tags of an image to the repository")
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress verbose output")
	flags.Bool("disable-content-trust", true, "Skip image signing")
	return cmd
}

func runPush(ctx context.Context, c *cli.Cli, o pushOptions) error {
	named, auth, err := registryTarget(c, o.image, o.all, o.quiet)
	if err != nil {
		return err
	}
	body, err := c.Client().ImagePush(ctx, named.String(), auth)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := showProgress(c, body, o.quiet); err != nil {
		return err
	}
	if o.quiet {
		fmt.Fprintln(c.Out(), named.String())
	}
	return nil
}
