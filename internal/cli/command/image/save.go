package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/internal/cli"
	"github.com/spf13/cobra"
)

type saveOptions struct {
	images []string
	output string
}

func newSaveCommand(c *cli.Cli, use string) *cobra.Command {
	var o saveOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.images = args
			return runSave(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "image save, save")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

func runSave(ctx context.Context, c *cli.Cli, o saveOptions) error {
	if o.output == "" && c.Out().IsTerminal() {
		return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
	}
	if err := ValidateOutputPath(o.output); err != nil {
		return fmt.Errorf("failed to save image: %w", err)
	}
	body, err := c.Client().ImageSave(ctx, o.images)
	if err != nil {
		return err
	}
	defer body.Close()
	if o.output == "" {
		_, err := io.Copy(c.Out(), body)
		return err
	}
	return WriteFileAtomic(o.output, body)
}

// ValidateOutputPath checks that path ("" for stdout) can receive a file: its directory exists
// and the path itself is not a directory or another non-regular file.
func ValidateOutputPath(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	dir := filepath.Dir(filepath.Clean(path))
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("invalid output path: directory %q does not exist", dir)
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("invalid output path: %w", err)
	}
	if fi.IsDir() {
		return fmt.Errorf("invalid output path: %q is a directory", path)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("invalid output path: %q must be a directory or a regular file", path)
	}
	return nil
}

// WriteFileAtomic copies r into a temporary file beside path and renames it into place, so path
// never holds a partial archive.
func WriteFileAtomic(path string, r io.Reader) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".berth_temp_")
	if err != nil {
		return fmt.Errorf("failed to create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, r); err != nil {
		return fmt.Errorf("failed to write to temporary file: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("failed to close temporary file: %w", err)
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to rename temporary file: %w", err)
	}
	return nil
}
