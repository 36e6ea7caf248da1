package image

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/progress"
	"github.com/spf13/cobra"
)

type loadOptions struct {
	input string
	quiet bool
}

func newLoadCommand(c *cli.Cli, use string) *cobra.Command {
	var o loadOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS]",
		Short: "Load an image from a tar archive or STDIN",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLoad(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "image load, load")
	flags := cmd.Flags()
	flags.StringVarP(&o.input, "input", "i", "", "Read from tar archive file, instead of STDIN")
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress the load output")
	return cmd
}

func runLoad(ctx context.Context, c *cli.Cli, o loadOptions) error {
	var input io.Reader = c.In()
	if o.input != "" {
		f, err := os.Open(o.input)
		if err != nil {
			return err
		}
		defer f.Close()
		input = f
	} else if c.In().IsTerminal() {
		return errors.New("requested load from stdin, but stdin is empty")
	}
	// Progress bars only make sense on a terminal.
	quiet := o.quiet || !c.Out().IsTerminal()
	resp, err := c.Client().ImageLoad(ctx, input, quiet)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.JSON {
		return progress.Display(resp.Body, c.Out(), c.Out().IsTerminal(), c.Out().Width(), nil)
	}
	_, err = io.Copy(c.Out(), resp.Body)
	return err
}
