package container

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/berth-project/berth/internal/cli"
	"github.com/spf13/cobra"
)

func newTopCommand(c *cli.Cli, use string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " CONTAINER [ps OPTIONS]",
		Short: "Display the running processes of a container",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTop(cmd.Context(), c, args[0], strings.Join(args[1:], " "))
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cli.WithAliases(cmd, "container top, top")
}

func runTop(ctx context.Context, c *cli.Cli, ref, psArgs string) error {
	top, err := c.Client().ContainerTop(ctx, ref, psArgs)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.Out(), 20, 1, 3, ' ', 0)
	fmt.Fprintln(w, strings.Join(top.Titles, "\t"))
	for _, p := range top.Processes {
		fmt.Fprintln(w, strings.Join(p, "\t"))
	}
	return w.Flush()
}
