package volume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/command/image"
)

type exportOptions struct {
	name   string
	output string
}

// newExportCommand is berth's `volume export` (podman has it; docker has none).
func newExportCommand(c *cli.Cli) *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export [OPTIONS] VOLUME",
		Short: "Export a volume's content as a tar archive (streamed to STDOUT by default)",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runExport(cmd.Context(), c, o)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

func runExport(ctx context.Context, c *cli.Cli, o exportOptions) error {
	if o.output == "" && c.Out().IsTerminal() {
		return errors.New("cowardly refusing to export to a terminal. Use the -o flag or redirect")
	}
	if err := image.ValidateOutputPath(o.output); err != nil {
		return fmt.Errorf("failed to export volume: %w", err)
	}
	body, err := c.Client().VolumeExport(ctx, o.name)
	if err != nil {
		return err
	}
	defer body.Close()
	if o.output == "" || o.output == "-" {
		_, err := io.Copy(c.Out(), body)
		return err
	}
	return image.WriteFileAtomic(o.output, body)
}

type importOptions struct {
	name  string
	input string
}

// newImportCommand is berth's `volume import`: a tar archive (plain or compressed) unpacked into a
// volume over what it holds.
func newImportCommand(c *cli.Cli) *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import [OPTIONS] VOLUME [FILE|-]",
		Short: "Import a tar archive into a volume",
		Args:  cli.RequiresRangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if len(args) == 2 {
				o.input = args[1]
			}
			return runImport(cmd.Context(), c, o)
		},
	}
	cmd.Flags().StringVarP(&o.input, "input", "i", "", "Read from a tar archive file, instead of STDIN")
	return cmd
}

func runImport(ctx context.Context, c *cli.Cli, o importOptions) error {
	var r io.Reader = c.In()
	if o.input != "" && o.input != "-" {
		f, err := os.Open(o.input)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	return c.Client().VolumeImport(ctx, o.name, r)
}
