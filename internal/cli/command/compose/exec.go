package compose

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/command/container"
	"github.com/berth-project/berth/internal/compose"
	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
)

// containerCommand runs `berth container <args>`: exec, run, cp, top, port and wait act on
// one resolved container exactly as the container commands do.
func containerCommand(ctx context.Context, c *cli.Cli, args ...string) error {
	cmd := container.NewContainerCommand(c)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs(args)
	return cmd.ExecuteContext(ctx)
}

func newExecCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var (
		detach, noTTY, privileged bool
		user, workdir             string
		env                       []string
		index                     int
	)
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] SERVICE COMMAND [ARGS...]",
		Short: "Execute a command in a running container",
		Args:  cli.RequiresMinArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name, err := po.serviceContainer(ctx, c, args[0], index)
			if err != nil {
				return err
			}
			a := []string{"exec"}
			if detach {
				a = append(a, "-d")
			} else if c.In().IsTerminal() {
				a = append(a, "-i")
				if !noTTY {
					a = append(a, "-t")
				}
			}
			a = appendFlag(a, "-u", user)
			a = appendFlag(a, "-w", workdir)
			if privileged {
				a = append(a, "--privileged")
			}
			for _, e := range env {
				a = append(a, "-e", e)
			}
			return containerCommand(ctx, c, append(append(a, name), args[1:]...)...)
		},
	}
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	flags.BoolVarP(&detach, "detach", "d", false, "Detached mode: Run command in the background")
	flags.BoolVarP(&noTTY, "no-TTY", "T", false, "Disable pseudo-TTY allocation. By default `compose exec` allocates a TTY")
	flags.BoolVar(&privileged, "privileged", false, "Give extended privileges to the process")
	flags.StringVarP(&user, "user", "u", "", "Run the command as this user")
	flags.StringVarP(&workdir, "workdir", "w", "", "Path to workdir directory for this command")
	flags.StringArrayVarP(&env, "env", "e", nil, "Set environment variables")
	flags.IntVar(&index, "index", 1, "Index of the container if service has multiple replicas")
	return cmd
}

// serviceContainer is the name of replica index of service in the project.
func (o *projectOptions) serviceContainer(ctx context.Context, c *cli.Cli, service string, index int) (string, error) {
	p, err := o.load(ctx, c, true)
	if err != nil {
		return "", err
	}
	return engine(c).ServiceContainer(ctx, p, service, index)
}

func appendFlag(a []string, flag, value string) []string {
	if value == "" {
		return a
	}
	return append(a, flag, value)
}

func newRunCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var (
		detach, rm, noDeps, noTTY, servicePorts, build bool
		name, user, workdir, entrypoint                string
		env, labels, publish, volumes                  []string
	)
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] SERVICE [COMMAND] [ARGS...]",
		Short: "Run a one-off command on a service",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := po.load(ctx, c, false)
			if err != nil {
				return err
			}
			s, err := p.GetService(args[0])
			if err != nil {
				return err
			}
			if len(args) > 1 {
				s.Command = args[1:]
			}
			if entrypoint != "" {
				s.Entrypoint = types.ShellCommand{entrypoint}
			}
			if err := runOverrides(&s, env, labels, publish, volumes, servicePorts); err != nil {
				return err
			}
			s.User = orString(user, s.User)
			s.WorkingDir = orString(workdir, s.WorkingDir)
			interactive := !detach && c.In().IsTerminal()
			s.Tty = interactive && !noTTY
			s.StdinOpen = interactive
			s.Restart, s.ContainerName, s.Deploy = "", "", nil
			if rm && detach {
				return errors.New("--rm and --detach are incompatible")
			}
			e := engine(c)
			ctr, err := e.CreateOneoff(ctx, p, s, compose.RunOptions{Name: name, NoDeps: noDeps, Images: compose.ImageOptions{Build: build}})
			if err != nil {
				return err
			}
			if detach {
				return containerCommand(ctx, c, "start", ctr)
			}
			a := []string{"start", "-a"}
			if interactive {
				a = append(a, "-i")
			}
			runErr := containerCommand(ctx, c, append(a, ctr)...)
			if rm {
				if err := c.Client().ContainerRemove(context.WithoutCancel(ctx), ctr, client.RemoveOptions{Force: true}); err != nil && runErr == nil {
					runErr = err
				}
			}
			return runErr
		},
	}
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	flags.BoolVarP(&detach, "detach", "d", false, "Run container in background and print container ID")
	flags.BoolVar(&rm, "rm", false, "Automatically remove the container when it exits")
	flags.BoolVar(&noDeps, "no-deps", false, "Don't start linked services")
	flags.BoolVarP(&noTTY, "no-TTY", "T", false, "Disable pseudo-TTY allocation (default: auto-detected)")
	flags.BoolVar(&servicePorts, "service-ports", false, "Run command with all service's ports enabled and mapped to the host")
	flags.BoolVar(&build, "build", false, "Build image before starting container")
	flags.StringVar(&name, "name", "", "Assign a name to the container")
	flags.StringVarP(&user, "user", "u", "", "Run as specified username or uid")
	flags.StringVarP(&workdir, "workdir", "w", "", "Working directory inside the container")
	flags.StringVar(&entrypoint, "entrypoint", "", "Override the entrypoint of the image")
	flags.StringArrayVarP(&env, "env", "e", nil, "Set environment variables")
	flags.StringArrayVarP(&labels, "label", "l", nil, "Add or override a label")
	flags.StringArrayVarP(&publish, "publish", "p", nil, "Publish a container's port(s) to the host")
	flags.StringArrayVarP(&volumes, "volume", "v", nil, "Bind mount a volume")
	return cmd
}

func orString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// runOverrides applies run's -e, -l, -p and -v to the service; its own ports are dropped
// unless --service-ports.
func runOverrides(s *types.ServiceConfig, env, labels, publish, volumes []string, servicePorts bool) error {
	if s.Environment == nil {
		s.Environment = types.MappingWithEquals{}
	}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			s.Environment[k] = nil
			continue
		}
		s.Environment[k] = &v
	}
	if s.Labels == nil {
		s.Labels = types.Labels{}
	}
	for _, kv := range labels {
		k, v, _ := strings.Cut(kv, "=")
		s.Labels[k] = v
	}
	if !servicePorts {
		s.Ports = nil
	}
	for _, spec := range publish {
		ports, err := types.ParsePortConfig(spec)
		if err != nil {
			return err
		}
		s.Ports = append(s.Ports, ports...)
	}
	for _, spec := range volumes {
		v, err := format.ParseVolume(spec)
		if err != nil {
			return err
		}
		s.Volumes = append(s.Volumes, v)
	}
	return nil
}

// serviceRef splits SERVICE:PATH as cp takes it; ok is false for a host path.
func serviceRef(arg string) (service, path string, ok bool) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") || arg == "-" {
		return "", arg, false
	}
	return strings.Cut(arg, ":")
}

func newCpCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var (
		index           int
		archive, follow bool
	)
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n\tcp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH",
		Short: "Copy files/folders between a service container and the local filesystem",
		Args:  cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a := []string{"cp"}
			if archive {
				a = append(a, "-a")
			}
			if follow {
				a = append(a, "-L")
			}
			resolved := 0
			for _, arg := range args {
				if svc, path, ok := serviceRef(arg); ok {
					name, err := po.serviceContainer(ctx, c, svc, index)
					if err != nil {
						return err
					}
					arg = name + ":" + path
					resolved++
				}
				a = append(a, arg)
			}
			if resolved != 1 {
				return errors.New("one of the paths must be SERVICE:PATH")
			}
			return containerCommand(ctx, c, a...)
		},
	}
	cmd.Flags().IntVar(&index, "index", 1, "Index of the container if service has multiple replicas")
	cmd.Flags().BoolVarP(&archive, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	cmd.Flags().BoolVarP(&follow, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	return cmd
}

func newPortCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var (
		index    int
		protocol string
	)
	cmd := &cobra.Command{
		Use:   "port [OPTIONS] SERVICE PRIVATE_PORT",
		Short: "Print the public port for a port binding",
		Args:  cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := strconv.Atoi(args[1]); err != nil {
				return fmt.Errorf("invalid port %q", args[1])
			}
			ctx := cmd.Context()
			name, err := po.serviceContainer(ctx, c, args[0], index)
			if err != nil {
				return err
			}
			return containerCommand(ctx, c, "port", name, args[1]+"/"+protocol)
		},
	}
	cmd.Flags().IntVar(&index, "index", 1, "Index of the container if service has multiple replicas")
	cmd.Flags().StringVar(&protocol, "protocol", "tcp", "tcp or udp")
	return cmd
}

// perContainer runs `container <verb> NAME` for each container of the services, under a
// heading with the container's name when withHeading.
func perContainer(c *cli.Cli, po *projectOptions, use, short, verb string, withHeading bool) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := po.load(ctx, c, true)
			if err != nil {
				return err
			}
			list, err := engine(c).Containers(ctx, p.Name, verb == "wait", compose.OneoffExclude, args...)
			if err != nil {
				return err
			}
			if !withHeading {
				names := make([]string, 0, len(list))
				for _, ctr := range list {
					names = append(names, compose.Name(ctr))
				}
				if len(names) == 0 {
					return errors.New("no containers for the given services")
				}
				return containerCommand(ctx, c, append([]string{verb}, names...)...)
			}
			for i, ctr := range list {
				if i > 0 {
					fmt.Fprintln(c.Out())
				}
				fmt.Fprintln(c.Out(), compose.Name(ctr))
				if err := containerCommand(ctx, c, verb, ctr.ID); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func newTopCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	return perContainer(c, po, "top [SERVICES...]", "Display the running processes", "top", true)
}

func newWaitCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	return perContainer(c, po, "wait SERVICE [SERVICE...] [OPTIONS]", "Block until containers of all (or specified) services stop.", "wait", false)
}
