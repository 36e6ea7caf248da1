// Package command assembles the berth command tree: the root command with the global flags, the
// noun and verb commands of the sub-packages, docker's help layout and the exit status rules.
package command

import (
	"context"
	"fmt"
	"io"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/command/builder"
	"github.com/berth-project/berth/internal/cli/command/compose"
	"github.com/berth-project/berth/internal/cli/command/container"
	"github.com/berth-project/berth/internal/cli/command/image"
	"github.com/berth-project/berth/internal/cli/command/network"
	"github.com/berth-project/berth/internal/cli/command/registry"
	"github.com/berth-project/berth/internal/cli/command/system"
	"github.com/berth-project/berth/internal/cli/command/volume"
	"github.com/berth-project/berth/internal/cli/config"
	"github.com/spf13/cobra"
)

// NewRootCommand builds the whole command tree on c.
func NewRootCommand(c *cli.Cli) *cobra.Command {
	var (
		opts        cli.Options
		showVersion bool
	)
	root := &cobra.Command{
		Use:              "berth [OPTIONS] COMMAND [ARG...]",
		Short:            "A self-sufficient runtime for containers",
		SilenceUsage:     true,
		SilenceErrors:    true,
		TraverseChildren: true,
		Args:             cobra.ArbitraryArgs,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return c.Initialize(opts)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				b := cli.BuildInfo()
				_, err := fmt.Fprintf(c.Out(), "berth version %s, build %s\n", b.Version, b.GitCommit)
				return err
			}
			if len(args) == 0 {
				return cli.ShowHelp(c)(cmd, args)
			}
			return fmt.Errorf("%s: unknown command: %s %s\n\nRun '%s --help' for more information",
				cmd.Name(), cmd.Name(), args[0], cmd.Name())
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(c.In())
	root.SetOut(c.Out())
	root.SetErr(c.Err())

	flags := root.Flags()
	flags.StringVar(&opts.ConfigDir, "config", config.Dir("", c.Getenv), "Location of client config files")
	flags.BoolVarP(&opts.Debug, "debug", "D", false, "Enable debug mode")
	flags.VarP(&hostList{target: &opts.Hosts}, "host", "H", "Daemon socket to connect to")
	flags.StringVarP(&opts.LogLevel, "log-level", "l", "info", `Set the logging level ("debug", "info", "warn", "error", "fatal")`)
	flags.BoolVarP(&showVersion, "version", "v", false, "Print version information and quit")
	root.PersistentFlags().BoolP("help", "h", false, "Print usage")
	_ = root.PersistentFlags().MarkHidden("help")

	addCommands(root, c)
	setup(root)
	return root
}

// withSub adds sub to cmd, for a subcommand that lives in another package.
func withSub(cmd, sub *cobra.Command) *cobra.Command {
	cmd.AddCommand(sub)
	return cmd
}

// addCommands attaches every command. Top-level shortcuts (images, rmi, ...) are separate
// cobra commands built by the same constructors as their `image` counterparts.
func addCommands(root *cobra.Command, c *cli.Cli) {
	root.AddCommand(
		compose.NewComposeCommand(c),
		container.NewContainerCommand(c),
		withSub(image.NewImageCommand(c), builder.NewBuildCommand(c)), // `image build`, as docker has
		network.NewNetworkCommand(c),
		system.NewSystemCommand(c),
		volume.NewVolumeCommand(c),
		builder.NewBuilderCommand(c),
		builder.NewBuildCommand(c),

		common(container.NewRunCommand(c)),
		common(container.NewExecCommand(c)),
		common(container.NewPsCommand(c)),
		common(image.NewImagesCommand(c)),
		common(system.NewVersionCommand(c)),
		common(system.NewInfoCommand(c)),
		common(image.NewPullCommand(c)),
		common(image.NewPushCommand(c)),
		common(registry.NewLoginCommand(c)),
		common(registry.NewLogoutCommand(c)),

		system.NewEventsCommand(c),
		image.NewHistoryCommand(c),
		image.NewImportCommand(c),
		system.NewInspectCommand(c),
		image.NewLoadCommand(c),
		image.NewRemoveCommand(c),
		image.NewSaveCommand(c),
		image.NewTagCommand(c),
	)
	root.AddCommand(container.TopLevelCommands(c)...)
}

func common(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[cli.AnnotationCommon] = "true"
	return cmd
}

// setup applies docker's conventions to every command of the tree.
func setup(cmd *cobra.Command) {
	cmd.DisableFlagsInUseLine = true
	cmd.SetFlagErrorFunc(cli.FlagErrorFunc)
	cmd.SetHelpFunc(renderHelp)
	cmd.SetUsageFunc(func(c *cobra.Command) error {
		renderHelp(c, nil)
		return nil
	})
	for _, sub := range cmd.Commands() {
		setup(sub)
	}
}

// Run executes the CLI with args and returns the process exit status: 0 on success, the code of a
// cli.StatusError, 0 for a declined prompt, and 1 for any other error, printed to stderr.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c := cli.New(stdin, stdout, stderr, getenv)
	root := NewRootCommand(c)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if cl := c.Client(); cl != nil {
		_ = cl.Close()
	}
	return exitStatus(err, stderr)
}

func exitStatus(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var se cli.StatusError
	if asStatus(err, &se) {
		if se.Status != "" {
			fmt.Fprintln(stderr, se.Status)
		}
		if se.StatusCode == 0 {
			return 1
		}
		return se.StatusCode
	}
	if cli.IsCancelled(err) {
		return 0
	}
	if text := cli.ErrorText(err); text != "" {
		fmt.Fprintln(stderr, text)
	}
	return 1
}
