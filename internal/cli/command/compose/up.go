package compose

import (
	"context"
	"errors"
	"time"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/compose"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
)

// createFlags are the flags create and up share.
type createFlags struct {
	build, noBuild, forceRecreate, noRecreate, removeOrphans bool
	pull                                                     string
	scale                                                    []string
}

func (f *createFlags) add(cmd *cobra.Command) {
	flags := cmd.Flags()
	flags.BoolVar(&f.build, "build", false, "Build images before starting containers")
	flags.BoolVar(&f.noBuild, "no-build", false, "Don't build an image, even if it's policy")
	flags.StringVar(&f.pull, "pull", "policy", `Pull image before running ("always"|"missing"|"never"|"policy")`)
	flags.BoolVar(&f.forceRecreate, "force-recreate", false, "Recreate containers even if their configuration and image haven't changed")
	flags.BoolVar(&f.noRecreate, "no-recreate", false, "If containers already exist, don't recreate them")
	flags.BoolVar(&f.removeOrphans, "remove-orphans", false, "Remove containers for services not defined in the Compose file")
	flags.StringArrayVar(&f.scale, "scale", nil, "Scale SERVICE to NUM instances. Overrides the scale setting in the Compose file if present")
}

// load reads the project with --scale applied and the create options of the flags.
func (f *createFlags) load(ctx context.Context, c *cli.Cli, po *projectOptions, services []string) (*types.Project, compose.CreateOptions, error) {
	p, err := po.load(ctx, c, false)
	if err != nil {
		return nil, compose.CreateOptions{}, err
	}
	if err := parseScale(p, f.scale); err != nil {
		return nil, compose.CreateOptions{}, err
	}
	o, err := f.options(services)
	return p, o, err
}

func (f *createFlags) options(services []string) (compose.CreateOptions, error) {
	if f.build && f.noBuild {
		return compose.CreateOptions{}, errors.New("--build and --no-build are incompatible")
	}
	if f.forceRecreate && f.noRecreate {
		return compose.CreateOptions{}, errors.New("--force-recreate and --no-recreate are incompatible")
	}
	o := compose.CreateOptions{Services: services, RemoveOrphans: f.removeOrphans,
		Images: compose.ImageOptions{Build: f.build, NoBuild: f.noBuild}}
	if f.pull != "policy" {
		o.Images.Pull = f.pull
	}
	switch {
	case f.forceRecreate:
		o.Recreate = compose.RecreateForce
	case f.noRecreate:
		o.Recreate = compose.RecreateNever
	}
	return o, nil
}

func newCreateCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [SERVICE...]",
		Short: "Creates containers for a service",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, o, err := f.load(cmd.Context(), c, po, args)
			if err != nil {
				return err
			}
			o.NoStart = true
			return engine(c).Up(cmd.Context(), p, compose.UpOptions{CreateOptions: o})
		},
	}
	f.add(cmd)
	return cmd
}

func newUpCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var (
		f                       createFlags
		detach, wait, abort     bool
		noStart, noDeps, noLogs bool
		waitTimeout             int
		exitFrom                string
	)
	cmd := &cobra.Command{
		Use:   "up [OPTIONS] [SERVICE...]",
		Short: "Create and start containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, o, err := f.load(ctx, c, po, args)
			if err != nil {
				return err
			}
			if noDeps && len(args) > 0 {
				if p, err = p.WithSelectedServices(args, types.IgnoreDependencies); err != nil {
					return err
				}
			}
			if exitFrom != "" {
				abort = true
			}
			if detach && abort {
				return errors.New("--abort-on-container-exit and --detach are incompatible")
			}
			o.NoStart = noStart
			e := engine(c)
			up := compose.UpOptions{CreateOptions: o, Wait: wait, WaitTimeout: time.Duration(waitTimeout) * time.Second}
			if err := e.Up(ctx, p, up); err != nil {
				return err
			}
			if detach || wait || noStart || noLogs {
				return nil
			}
			code, err := e.Attach(ctx, p, args, c.Out(), compose.AttachOptions{
				Color: po.color(c), AbortOnExit: abort, ExitCodeFrom: exitFrom,
			})
			if err != nil {
				return err
			}
			if ctx.Err() != nil {
				return exitCode(130)
			}
			return exitCode(code)
		},
	}
	f.add(cmd)
	flags := cmd.Flags()
	flags.BoolVarP(&detach, "detach", "d", false, "Detached mode: Run containers in the background")
	flags.BoolVar(&wait, "wait", false, "Wait for services to be running|healthy. Implies detached mode.")
	flags.IntVar(&waitTimeout, "wait-timeout", 0, "Maximum duration in seconds to wait for the project to be running|healthy")
	flags.BoolVar(&abort, "abort-on-container-exit", false, "Stops all containers if any container was stopped. Incompatible with -d")
	flags.StringVar(&exitFrom, "exit-code-from", "", "Return the exit code of the selected service container. Implies --abort-on-container-exit")
	flags.BoolVar(&noStart, "no-start", false, "Don't start the services after creating them")
	flags.BoolVar(&noDeps, "no-deps", false, "Don't start linked services")
	flags.BoolVar(&noLogs, "no-log-prefix", false, "Don't print prefix in logs")
	return cmd
}
