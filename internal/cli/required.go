package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Argument validators with docker's messages. Like docker, a wrong number of arguments exits 1
// (only flag errors exit 125).

func plural(n int) string {
	if n == 1 {
		return "argument"
	}
	return "arguments"
}

func binaryName(cmd *cobra.Command) string { return cmd.Root().Name() }

func argsError(cmd *cobra.Command, verb string, hint string) error {
	return fmt.Errorf("%s: '%s' %s\n\nUsage:  %s\n\n%s '%s --help' for more information",
		binaryName(cmd), cmd.CommandPath(), verb, cmd.UseLine(), hint, cmd.CommandPath())
}

// NoArgs refuses any argument; on a command with subcommands an argument is an unknown command.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return fmt.Errorf("%s: unknown command: %s %s\n\nUsage:  %s\n\nRun '%s --help' for more information",
			binaryName(cmd), cmd.CommandPath(), strings.Join(args, " "), cmd.CommandPath(), cmd.CommandPath())
	}
	return argsError(cmd, "accepts no arguments", "Run")
}

// RequiresMinArgs needs at least n arguments.
func RequiresMinArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= n {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at least %d %s", n, plural(n)), "See")
	}
}

// RequiresMaxArgs allows at most n arguments.
func RequiresMaxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) <= n {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at most %d %s", n, plural(n)), "Run")
	}
}

// RequiresRangeArgs needs between lo and hi arguments.
func RequiresRangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= lo && len(args) <= hi {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at least %d and at most %d %s", lo, hi, plural(hi)), "Run")
	}
}

// ExactArgs needs exactly n arguments.
func ExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires %d %s", n, plural(n)), "Run")
	}
}

// FlagErrorFunc turns a flag parsing error into a usage StatusError with code 125, as docker does.
func FlagErrorFunc(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	return StatusError{
		Status:     fmt.Sprintf("%s\n\nUsage:  %s\n\nRun '%s --help' for more information", err, cmd.UseLine(), cmd.CommandPath()),
		StatusCode: 125,
	}
}

// UsageLine is the "Usage:" text of cmd: its use line, or "PATH [OPTIONS] COMMAND" for a command
// with subcommands.
func UsageLine(cmd *cobra.Command) string {
	if cmd.HasAvailableSubCommands() {
		s := cmd.CommandPath()
		if cmd.HasAvailableLocalFlags() {
			s += " [OPTIONS]"
		}
		return s + " COMMAND"
	}
	return cmd.UseLine()
}

// ShowHelp prints cmd's help to the CLI's stderr (what docker does when a command group is run
// without a subcommand) and succeeds.
func ShowHelp(c *Cli) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		cmd.SetOut(c.Err())
		cmd.HelpFunc()(cmd, nil)
		return nil
	}
}
