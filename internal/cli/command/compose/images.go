package compose

import (
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/compose"
	"github.com/spf13/cobra"
)

func newBuildCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var (
		o         compose.BuildOptions
		buildArgs []string
		quiet     bool
	)
	cmd := &cobra.Command{
		Use:   "build [OPTIONS] [SERVICE...]",
		Short: "Build or rebuild services",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := po.load(cmd.Context(), c, false)
			if err != nil {
				return err
			}
			o.Args = map[string]*string{}
			for _, kv := range buildArgs {
				k, v, ok := strings.Cut(kv, "=")
				if ok {
					o.Args[k] = &v
				} else {
					o.Args[k] = nil
				}
			}
			if !quiet {
				o.Output = c.Out()
			}
			return engine(c).Build(cmd.Context(), p, args, o)
		},
	}
	flags := cmd.Flags()
	flags.BoolVar(&o.NoCache, "no-cache", false, "Do not use cache when building the image")
	flags.BoolVar(&o.Pull, "pull", false, "Always attempt to pull a newer version of the image")
	flags.StringArrayVar(&buildArgs, "build-arg", nil, "Set build-time variables for services")
	flags.BoolVarP(&quiet, "quiet", "q", false, "Don't print anything to STDOUT")
	return cmd
}

func newPullCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var ignore bool
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] [SERVICE...]",
		Short: "Pull service images",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := po.load(cmd.Context(), c, false)
			if err != nil {
				return err
			}
			return engine(c).Pull(cmd.Context(), p, args, ignore)
		},
	}
	cmd.Flags().BoolVar(&ignore, "ignore-pull-failures", false, "Pull what it can and ignores images with pull failures")
	return cmd
}

func newPushCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "push [OPTIONS] [SERVICE...]",
		Short: "Push service images",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := po.load(cmd.Context(), c, false)
			if err != nil {
				return err
			}
			auth := func(image string) string {
				a, _ := c.ConfigFile().RegistryAuth(image)
				return a
			}
			return engine(c).Push(cmd.Context(), p, args, auth)
		},
	}
}

func newImagesCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "images [OPTIONS] [SERVICE...]",
		Short: "List images used by the created containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := po.load(ctx, c, true)
			if err != nil {
				return err
			}
			list, err := engine(c).Containers(ctx, p.Name, true, compose.OneoffInclude, args...)
			if err != nil {
				return err
			}
			if quiet {
				seen := map[string]bool{}
				for _, ctr := range list {
					if !seen[ctr.ImageID] {
						seen[ctr.ImageID] = true
						fmt.Fprintln(c.Out(), ctr.ImageID)
					}
				}
				return nil
			}
			tw := format.NewTableWriter(c.Out())
			fmt.Fprintln(tw, "CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE")
			for _, ctr := range list {
				img, _, err := c.Client().ImageInspect(ctx, ctr.ImageID)
				if err != nil {
					return err
				}
				repo, tag := "<none>", "<none>"
				if len(img.RepoTags) > 0 {
					r := img.RepoTags[0]
					if i := strings.LastIndex(r, ":"); i > strings.LastIndex(r, "/") {
						repo, tag = r[:i], r[i+1:]
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", compose.Name(ctr), repo, tag, format.ShortID(img.ID), format.Size(img.Size))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display IDs")
	return cmd
}
