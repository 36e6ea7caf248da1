package command

import (
	"fmt"
	"io"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/moby/term"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// renderHelp writes cmd's help in docker's layout: usage line, description, aliases, command
// lists, options, and a pointer to per-command help.
func renderHelp(cmd *cobra.Command, _ []string) {
	w := cmd.OutOrStdout()
	root := cmd.Root()
	isRoot := cmd == root

	fmt.Fprintf(w, "Usage:  %s\n", cli.UsageLine(cmd))
	desc := cmd.Long
	if desc == "" {
		desc = cmd.Short
	}
	if desc != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(desc, "\n"))
	}
	if aliases := cmd.Annotations[cli.AnnotationAliases]; aliases != "" {
		var paths []string
		for _, a := range strings.Split(aliases, ",") {
			paths = append(paths, root.Name()+" "+strings.TrimSpace(a))
		}
		fmt.Fprintf(w, "\nAliases:\n  %s\n", strings.Join(paths, ", "))
	}
	if cmd.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(cmd.Example, "\n"))
	}

	if cmd.HasAvailableSubCommands() {
		var commonCmds, mgmt, plain []*cobra.Command
		for _, sub := range cmd.Commands() {
			if !sub.IsAvailableCommand() {
				continue
			}
			switch {
			case isRoot && sub.Annotations[cli.AnnotationCommon] != "":
				commonCmds = append(commonCmds, sub)
			case isRoot && sub.HasSubCommands():
				mgmt = append(mgmt, sub)
			default:
				plain = append(plain, sub)
			}
		}
		writeCommands(w, "Common Commands", commonCmds)
		writeCommands(w, "Management Commands", mgmt)
		writeCommands(w, "Commands", plain)
	}

	width := helpWidth()
	if isRoot {
		if usages := flagUsages(cmd.Flags(), width); usages != "" {
			fmt.Fprintf(w, "\nGlobal Options:\n%s\n", usages)
		}
	} else if usages := flagUsages(cmd.LocalFlags(), width); usages != "" {
		fmt.Fprintf(w, "\nOptions:\n%s\n", usages)
	}

	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' for more information on a command.\n", cmd.CommandPath())
	}
}

func writeCommands(w io.Writer, title string, cmds []*cobra.Command) {
	if len(cmds) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-11s %s\n", c.Name(), c.Short)
	}
}

func flagUsages(fs *pflag.FlagSet, width int) string {
	return strings.TrimRight(fs.FlagUsagesWrapped(width-1), " \n")
}

// helpWidth is the terminal width of stdout, or 80.
func helpWidth() int {
	if ws, err := term.GetWinsize(1); err == nil && ws.Width > 0 {
		return int(ws.Width)
	}
	return 80
}
