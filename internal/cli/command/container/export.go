package container

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/command/image"
	"github.com/spf13/cobra"
)

func newExportCommand(c *cli.Cli, use string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER",
		Short: "Export a container's filesystem as a tar archive",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(cmd.Context(), c, args[0], output)
		},
	}
	cli.WithAliases(cmd, "container export, export")
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

func runExport(ctx context.Context, c *cli.Cli, ref, output string) error {
	if output == "" && c.Out().IsTerminal() {
		return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
	}
	if err := image.ValidateOutputPath(output); err != nil {
		return fmt.Errorf("failed to export container: %w", err)
	}
	body, err := c.Client().ContainerExport(ctx, ref)
	if err != nil {
		return err
	}
	defer body.Close()
	if output == "" || output == "-" {
		_, err := io.Copy(c.Out(), body)
		return err
	}
	return image.WriteFileAtomic(output, body)
}
