package container

import (
	"context"
	"fmt"

	"github.com/berth-project/berth/internal/cli"
	"github.com/spf13/cobra"
)

func newDiffCommand(c *cli.Cli, use string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " CONTAINER",
		Short: "Inspect changes to files or directories on a container's filesystem",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), c, args[0])
		},
	}
	return cli.WithAliases(cmd, "container diff, diff")
}

// changeKinds are the letters of the change kinds 0 (modified), 1 (added), 2 (deleted).
var changeKinds = map[uint8]string{0: "C", 1: "A", 2: "D"}

func runDiff(ctx context.Context, c *cli.Cli, ref string) error {
	changes, err := c.Client().ContainerDiff(ctx, ref)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		kind, ok := changeKinds[uint8(ch.Kind)]
		if !ok {
			kind = "?"
		}
		fmt.Fprintf(c.Out(), "%s %s\n", kind, ch.Path)
	}
	return nil
}
