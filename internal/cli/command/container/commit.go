package container

import (
	"context"
	"fmt"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
	"github.com/spf13/cobra"
)

type commitOptions struct {
	container string
	reference string
	pause     bool
	comment   string
	author    string
	changes   *opts.List
}

func newCommitCommand(c *cli.Cli, use string) *cobra.Command {
	o := commitOptions{changes: opts.NewList(nil)}
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
		Short: "Create a new image from a container's changes",
		Args:  cli.RequiresRangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.container = args[0]
			if len(args) > 1 {
				o.reference = args[1]
			}
			return runCommit(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "container commit, commit")
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	flags.BoolVarP(&o.pause, "pause", "p", true, "Pause container during commit")
	flags.StringVarP(&o.comment, "message", "m", "", "Commit message")
	flags.StringVarP(&o.author, "author", "a", "", `Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`)
	flags.VarP(o.changes, "change", "c", "Apply Dockerfile instruction to the created image")
	return cmd
}

func runCommit(ctx context.Context, c *cli.Cli, o commitOptions) error {
	resp, err := c.Client().ContainerCommit(ctx, o.container, client.CommitOptions{
		Reference: o.reference, Comment: o.comment, Author: o.author, Changes: o.changes.Values(), Pause: o.pause,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.Out(), resp.ID)
	return err
}
