package system

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/system"
	"github.com/spf13/cobra"
)

// ClientInfo is the client half of `berth info`.
type ClientInfo struct {
	Debug     bool
	Version   string
	GitCommit string
	GoVersion string
	Os        string
	Arch      string
	BuildTime string
	Context   string
	Plugins   []any
	Warnings  []string
}

// Info is what --format templates of `berth info` see: the daemon's info with the client's
// beside it.
type Info struct {
	*system.Info
	ClientInfo   *ClientInfo
	ClientErrors []string `json:",omitempty"`
	ServerErrors []string `json:",omitempty"`
}

type infoOptions struct {
	format string
}

// NewInfoCommand is `berth info`.
func NewInfoCommand(c *cli.Cli) *cobra.Command { return newInfoCommand(c, "info") }

func newInfoCommand(c *cli.Cli, use string) *cobra.Command {
	var o infoOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS]",
		Short: "Display system-wide information",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInfo(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "system info, info")
	cmd.Flags().StringVarP(&o.format, "format", "f", "", inspectFormatHelp)
	return cmd
}

func runInfo(ctx context.Context, c *cli.Cli, o infoOptions) error {
	b := cli.BuildInfo()
	out := Info{ClientInfo: &ClientInfo{
		Debug:     c.Debug(),
		Version:   b.Version,
		GitCommit: b.GitCommit,
		GoVersion: runtime.Version(),
		Os:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		BuildTime: buildTime(b.BuildTime),
		Context:   "default",
	}}
	info, serverErr := c.Client().Info(ctx)
	if serverErr == nil {
		out.Info = &info
	} else {
		out.ServerErrors = append(out.ServerErrors, cli.ErrorText(serverErr))
	}

	if o.format != "" {
		err := format.ExecuteOne(c.Out(), o.format, out, nil)
		if serverErr != nil {
			return serverErr
		}
		return err
	}

	writeClientInfo(c.Out(), out.ClientInfo)
	fmt.Fprintln(c.Out())
	fmt.Fprintln(c.Out(), "Server:")
	if serverErr != nil {
		return serverErr
	}
	WriteServerInfo(c.Out(), &info)
	if len(info.Warnings) > 0 {
		fmt.Fprintln(c.Err(), strings.Join(info.Warnings, "\n"))
	}
	return nil
}

func writeClientInfo(w io.Writer, ci *ClientInfo) {
	fmt.Fprintln(w, "Client:")
	fmt.Fprintln(w, " Version:   ", ci.Version)
	fmt.Fprintln(w, " Context:   ", ci.Context)
	fmt.Fprintln(w, " Debug Mode:", ci.Debug)
}

// WriteServerInfo prints the daemon's info in docker's layout, leaving out what is empty.
func WriteServerInfo(w io.Writer, info *system.Info) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	optional := func(label, value string) {
		if value != "" {
			p(" %s: %s", label, value)
		}
	}
	p(" Containers: %d", info.Containers)
	p("  Running: %d", info.ContainersRunning)
	p("  Paused: %d", info.ContainersPaused)
	p("  Stopped: %d", info.ContainersStopped)
	p(" Images: %d", info.Images)
	optional("Server Version", info.ServerVersion)
	optional("Storage Driver", info.Driver)
	for _, kv := range info.DriverStatus {
		p("  %s: %s", kv[0], kv[1])
	}
	for _, kv := range info.SystemStatus {
		p(" %s: %s", kv[0], kv[1])
	}
	optional("Logging Driver", info.LoggingDriver)
	optional("Cgroup Driver", info.CgroupDriver)
	optional("Cgroup Version", info.CgroupVersion)

	p(" Plugins:")
	p("  Volume: %s", strings.Join(info.Plugins.Volume, " "))
	p("  Network: %s", strings.Join(info.Plugins.Network, " "))
	if len(info.Plugins.Authorization) > 0 {
		p("  Authorization: %s", strings.Join(info.Plugins.Authorization, " "))
	}
	p("  Log: %s", strings.Join(info.Plugins.Log, " "))

	if len(info.CDISpecDirs) > 0 {
		p(" CDI spec directories:")
		for _, d := range info.CDISpecDirs {
			p("  %s", d)
		}
	}
	swarm := string(info.Swarm.LocalNodeState)
	if swarm == "" {
		swarm = "inactive"
	}
	p(" Swarm: %s", swarm)

	if len(info.Runtimes) > 0 {
		names := make([]string, 0, len(info.Runtimes))
		for name := range info.Runtimes {
			names = append(names, name)
		}
		sort.Strings(names)
		p(" Runtimes: %s", strings.Join(names, " "))
	}
	optional("Default Runtime", info.DefaultRuntime)
	optional("Init Binary", info.InitBinary)
	if info.OSType != "windows" {
		// Docker prints these even when empty (with the trailing space of Println).
		fmt.Fprintln(w, " containerd version:", info.ContainerdCommit.ID)
		fmt.Fprintln(w, " runc version:", info.RuncCommit.ID)
		fmt.Fprintln(w, " init version:", info.InitCommit.ID)
	}
	if len(info.SecurityOptions) > 0 {
		p(" Security Options:")
		for _, o := range info.SecurityOptions {
			writeSecurityOption(p, o)
		}
	}
	optional("Kernel Version", info.KernelVersion)
	optional("Operating System", info.OperatingSystem)
	optional("OSType", info.OSType)
	optional("Architecture", info.Architecture)
	p(" CPUs: %d", info.NCPU)
	p(" Total Memory: %s", units.BytesSize(float64(info.MemTotal)))
	optional("Name", info.Name)
	optional("ID", info.ID)
	optional("Docker Root Dir", info.DockerRootDir)
	p(" Debug Mode: %v", info.Debug)
	if info.Debug {
		p("  File Descriptors: %d", info.NFd)
		p("  Goroutines: %d", info.NGoroutines)
		p("  System Time: %s", info.SystemTime)
		p("  EventsListeners: %d", info.NEventsListener)
	}
	optional("HTTP Proxy", info.HTTPProxy)
	optional("HTTPS Proxy", info.HTTPSProxy)
	optional("No Proxy", info.NoProxy)
	if len(info.Labels) > 0 {
		p(" Labels:")
		for _, l := range info.Labels {
			p("  %s", l)
		}
	}
	p(" Experimental: %v", info.ExperimentalBuild)
	if rc := info.RegistryConfig; rc != nil {
		if len(rc.InsecureRegistryCIDRs) > 0 || len(rc.IndexConfigs) > 0 {
			p(" Insecure Registries:")
			for _, name := range format.SortedKeys(rc.IndexConfigs) {
				if idx := rc.IndexConfigs[name]; idx != nil && !idx.Secure {
					p("  %s", name)
				}
			}
			for _, cidr := range rc.InsecureRegistryCIDRs {
				p("  %s", cidr)
			}
		}
		if len(rc.Mirrors) > 0 {
			p(" Registry Mirrors:")
			for _, m := range rc.Mirrors {
				p("  %s", m)
			}
		}
	}
	p(" Live Restore Enabled: %v", info.LiveRestoreEnabled)
	optional("Product License", info.ProductLicense)
	if len(info.DefaultAddressPools) > 0 {
		p(" Default Address Pools:")
		for _, pool := range info.DefaultAddressPools {
			p("   Base: %s, Size: %d", pool.Base, pool.Size)
		}
	}
	if fb := info.FirewallBackend; fb != nil {
		p(" Firewall Backend: %s", fb.Driver)
		for _, kv := range fb.Info {
			p("  %s: %s", kv[0], kv[1])
		}
	}
	fmt.Fprintln(w)
}

// writeSecurityOption prints one "name=seccomp,profile=builtin" style option as docker does.
func writeSecurityOption(p func(string, ...any), opt string) {
	if !strings.Contains(opt, "=") {
		p("  %s", opt)
		return
	}
	for _, kv := range strings.Split(opt, ",") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "name" {
			p("  %s", v)
			continue
		}
		p("   %s: %s", title(k), v)
	}
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
