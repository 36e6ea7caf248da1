package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/opts"
)

// Prune describes one `<object> prune` command; every such command has docker's -f and
// --filter, and -a when AllHelp is set.
type Prune struct {
	Object     string // "container", "image", ...: the cancel message names it
	Short      string
	FilterHelp string
	AllHelp    string
	// Warning is the confirmation question for the given -a.
	Warning func(all bool) string
	// Run does the prune with the parsed flags and reports what went.
	Run func(ctx context.Context, all bool, filter *opts.Filter) (Pruned, error)
}

// Pruned is what one prune removed, as docker prints it.
type Pruned struct {
	Heading   string   // "Deleted Containers"
	Items     []string // one line per removed object
	Reclaimed int64    // bytes; negative when the object frees none (networks)
}

// NewPruneCommand builds the cobra command for p.
func (c *Cli) NewPruneCommand(p Prune) *cobra.Command {
	var all, force bool
	filter := opts.NewFilter()
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: p.Short,
		Args:  NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.ConfirmPrune(cmd.Context(), force, p.Warning(all), p.Object+" prune has been cancelled"); err != nil {
				return err
			}
			r, err := p.Run(cmd.Context(), all, filter)
			if err != nil {
				return err
			}
			c.PrintPruned(r.Heading, r.Items, r.Reclaimed)
			return nil
		},
	}
	flags := cmd.Flags()
	if p.AllHelp != "" {
		flags.BoolVarP(&all, "all", "a", false, p.AllHelp)
	}
	flags.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	flags.Var(filter, "filter", p.FilterHelp)
	return cmd
}

// ConfirmPrune asks warning before a prune unless force; a refusal is a CancelledError with
// reason, which ends the CLI quietly as docker does.
func (c *Cli) ConfirmPrune(ctx context.Context, force bool, warning, reason string) error {
	if force {
		return nil
	}
	ok, err := c.Confirm(ctx, warning)
	if err != nil {
		return err
	}
	if !ok {
		return CancelledError{Reason: reason}
	}
	return nil
}

// PrintPruned prints docker's prune report: the heading and the removed items with a blank line
// after them (nothing when none went), then the reclaimed space unless reclaimed is negative.
func (c *Cli) PrintPruned(heading string, items []string, reclaimed int64) {
	if len(items) > 0 {
		fmt.Fprintf(c.Out(), "%s:\n%s\n\n", heading, strings.Join(items, "\n"))
	}
	if reclaimed >= 0 {
		fmt.Fprintln(c.Out(), "Total reclaimed space:", format.DiskSize(reclaimed))
	}
}
