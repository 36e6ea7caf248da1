// Package compose is `berth compose`: the docker compose v2 command tree on top of
// internal/compose, which does the loading and convergence.
package compose

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/command/builder"
	"github.com/berth-project/berth/internal/compose"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
)

// projectOptions are the flags every compose command shares.
type projectOptions struct {
	files      []string
	name       string
	projectDir string
	envFiles   []string
	profiles   []string
	ansi       string
}

// NewComposeCommand is `berth compose`.
func NewComposeCommand(c *cli.Cli) *cobra.Command {
	o := &projectOptions{}
	cmd := &cobra.Command{
		Use:              "compose [OPTIONS] COMMAND",
		Short:            "Define and run multi-container applications",
		Args:             cli.NoArgs,
		RunE:             cli.ShowHelp(c),
		TraverseChildren: true,
	}
	// Local flags, as docker compose has them: they go before the subcommand, whose own
	// flags (logs -f, ...) may reuse the letters.
	flags := cmd.Flags()
	flags.StringArrayVarP(&o.files, "file", "f", nil, "Compose configuration files")
	flags.StringVarP(&o.name, "project-name", "p", "", "Project name")
	flags.StringVar(&o.projectDir, "project-directory", "", "Specify an alternate working directory (default: the path of the first specified Compose file)")
	flags.StringArrayVar(&o.envFiles, "env-file", nil, "Specify an alternate environment file")
	flags.StringArrayVar(&o.profiles, "profile", nil, "Specify a profile to enable")
	flags.StringVar(&o.ansi, "ansi", "auto", `Control when to print ANSI control characters ("never"|"always"|"auto")`)
	cmd.AddCommand(
		newUpCommand(c, o), newCreateCommand(c, o), newDownCommand(c, o),
		newPsCommand(c, o), newLogsCommand(c, o),
		newStartCommand(c, o), newStopCommand(c, o), newRestartCommand(c, o), newKillCommand(c, o),
		newRmCommand(c, o), newPauseCommand(c, o, true), newPauseCommand(c, o, false),
		newExecCommand(c, o), newRunCommand(c, o),
		newBuildCommand(c, o), newPullCommand(c, o), newPushCommand(c, o),
		newConfigCommand(c, o), newLsCommand(c), newVersionCommand(c),
		newTopCommand(c, o), newImagesCommand(c, o), newPortCommand(c, o), newCpCommand(c, o),
		newWaitCommand(c, o),
	)
	return cmd
}

// load reads the project. Commands that can work from labels alone (allowNameOnly) accept a
// missing file when the project is named by -p or COMPOSE_PROJECT_NAME.
func (o *projectOptions) load(ctx context.Context, c *cli.Cli, allowNameOnly bool) (*types.Project, error) {
	p, err := compose.Load(ctx, compose.LoadOptions{
		Files: o.files, Name: o.name, ProjectDir: o.projectDir,
		EnvFiles: o.envFiles, Profiles: o.profiles, Environ: os.Environ(),
	})
	if errors.Is(err, compose.ErrNoConfig) && allowNameOnly {
		name := o.name
		if name == "" {
			name = c.Getenv("COMPOSE_PROJECT_NAME")
		}
		if name != "" {
			return compose.NameOnly(name), nil
		}
	}
	return p, err
}

func engine(c *cli.Cli) *compose.Engine {
	return compose.NewEngine(c.Client(), cli.BuildInfo().Version, c.Err(), builder.DirContext)
}

// color reports whether service prefixes are coloured.
func (o *projectOptions) color(c *cli.Cli) bool {
	switch o.ansi {
	case "always":
		return true
	case "never":
		return false
	}
	return c.Out().IsTerminal() && c.Getenv("NO_COLOR") == ""
}

// timeoutFlag adds -t/--timeout; the returned func is nil when it was not given.
func timeoutFlag(cmd *cobra.Command) func() *int {
	var t int
	cmd.Flags().IntVarP(&t, "timeout", "t", 0, "Specify a shutdown timeout in seconds")
	return func() *int {
		if !cmd.Flags().Changed("timeout") {
			return nil
		}
		return &t
	}
}

// exitCode is a non-zero exit status without a message.
func exitCode(code int) error {
	if code == 0 {
		return nil
	}
	return cli.StatusError{StatusCode: code}
}

// parseScale reads --scale SERVICE=N values into p.
func parseScale(p *types.Project, values []string) error {
	for _, v := range values {
		name, n, ok := strings.Cut(v, "=")
		if !ok {
			return errors.New("invalid --scale value " + strconv.Quote(v) + ": want SERVICE=NUM")
		}
		num, err := strconv.Atoi(n)
		if err != nil || num < 0 {
			return errors.New("invalid --scale value " + strconv.Quote(v) + ": want SERVICE=NUM")
		}
		s, ok := p.Services[name]
		if !ok {
			return errors.New("no such service: " + name)
		}
		s.SetScale(num)
		p.Services[name] = s
	}
	return nil
}
