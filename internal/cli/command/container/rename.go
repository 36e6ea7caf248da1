package container

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/spf13/cobra"
)

func newRenameCommand(c *cli.Cli, use string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRename(cmd.Context(), c, args[0], args[1])
		},
	}
	return cli.WithAliases(cmd, "container rename, rename")
}

func runRename(ctx context.Context, c *cli.Cli, oldName, newName string) error {
	oldName, newName = strings.TrimSpace(oldName), strings.TrimSpace(newName)
	if oldName == "" || newName == "" {
		return errors.New("Error: Neither old nor new names may be empty")
	}
	if err := c.Client().ContainerRename(ctx, oldName, newName); err != nil {
		fmt.Fprintln(c.Err(), cli.ErrorText(err))
		return fmt.Errorf("Error: failed to rename container named %s", oldName)
	}
	return nil
}
