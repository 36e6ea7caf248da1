package container

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/spf13/cobra"
)

func newWaitCommand(c *cli.Cli, use string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWait(cmd.Context(), c, args)
		},
	}
	return cli.WithAliases(cmd, "container wait, wait")
}

func runWait(ctx context.Context, c *cli.Cli, refs []string) error {
	var failures []string
	for _, ref := range refs {
		resultC, errC := c.Client().ContainerWait(ctx, ref, "")
		select {
		case r := <-resultC:
			if r.Error != nil && r.Error.Message != "" {
				failures = append(failures, r.Error.Message)
				continue
			}
			fmt.Fprintf(c.Out(), "%d\n", r.StatusCode)
		case err := <-errC:
			failures = append(failures, cli.ErrorText(err))
		}
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "\n"))
	}
	return nil
}
