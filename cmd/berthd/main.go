// Command berthd is the berth daemon: it serves the Docker Engine API on a unix socket.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/berth-project/berth/api"
	"github.com/berth-project/berth/internal/daemon"
)

const defaultConfigFile = "/etc/berth/daemon.json"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cfg, err := parseConfig(args)
	if err == pflag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "berthd:", err)
		return 1
	}
	log := newLogger(cfg)
	d, err := daemon.Start(cfg, log)
	if err != nil {
		log.Error("failed to start daemon", "err", err)
		fmt.Fprintln(os.Stderr, "berthd:", err)
		return 1
	}
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	code := 0
	select {
	case sig := <-sigc:
		log.Info("shutting down", "signal", sig.String())
	case err := <-d.Errors():
		log.Error("API server failed", "err", err)
		code = 1
	}
	if err := d.Shutdown(15 * time.Second); err != nil {
		log.Warn("shutdown", "err", err)
	}
	return code
}

// parseConfig merges defaults, daemon.json and flags; a setting given both as a flag and in the
// file is refused, as dockerd does.
func parseConfig(args []string) (daemon.Config, error) {
	cfg := daemon.Defaults()
	fs := pflag.NewFlagSet("berthd", pflag.ContinueOnError)
	fs.SortFlags = false
	var flagCfg daemon.Config
	var version bool
	configFile := fs.String("config-file", defaultConfigFile, "Daemon configuration file")
	fs.StringVar(&flagCfg.DataRoot, "data-root", cfg.DataRoot, "Root directory of persistent berth state")
	fs.StringVar(&flagCfg.ExecRoot, "exec-root", cfg.ExecRoot, "Root directory for execution state files")
	fs.StringArrayVarP(&flagCfg.Hosts, "host", "H", nil, "Daemon socket(s) to listen on (unix:///path, or tcp://host:port with TLS)")
	fs.StringVarP(&flagCfg.LogLevel, "log-level", "l", cfg.LogLevel, `Logging level ("debug"|"info"|"warn"|"error")`)
	fs.BoolVarP(&flagCfg.Debug, "debug", "D", false, "Enable debug mode")
	fs.StringVarP(&flagCfg.Pidfile, "pidfile", "p", "", "Path to use for the daemon PID file")
	fs.BoolVar(&flagCfg.TLS, "tls", false, "Use TLS; implied by --tlsverify")
	fs.BoolVar(&flagCfg.TLSVerify, "tlsverify", false, "Use TLS and verify the remote")
	fs.StringVar(&flagCfg.TLSCACert, "tlscacert", "", "Trust certs signed only by this CA")
	fs.StringVar(&flagCfg.TLSCert, "tlscert", "", "Path to TLS certificate file")
	fs.StringVar(&flagCfg.TLSKey, "tlskey", "", "Path to TLS key file")
	fs.StringVar(&flagCfg.DefaultRuntime, "default-runtime", cfg.DefaultRuntime, "Default OCI runtime for containers")
	fs.StringVarP(&flagCfg.Bridge, "bridge", "b", "", "Bridge interface of the default network (default \"berth0\")")
	fs.Var(&addressPools{&flagCfg.DefaultAddressPools}, "default-address-pool", "Default address pool for networks: base=CIDR,size=N (repeatable)")
	fs.StringArrayVar(&flagCfg.InsecureRegistries, "insecure-registry", nil, "Enable insecure registry communication")
	fs.StringArrayVar(&flagCfg.RegistryMirrors, "registry-mirror", nil, "Preferred registry mirror (URL for Docker Hub, REGISTRY=URL for any other)")
	fs.StringVar(&flagCfg.RegistryCertsDir, "registry-certs-dir", "", "Directory of per-registry certificates, <host:port>/ca.crt (default /etc/berth/certs.d and /etc/docker/certs.d)")
	fs.StringArrayVar(&flagCfg.Labels, "label", nil, "Set key=value labels to the daemon")
	fs.BoolVar(&flagCfg.CgroupFavorDynMods, "cgroup-favor-dynmods", cfg.CgroupFavorDynMods, "Remount the cgroup v2 hierarchy with favordynmods, for faster container starts")
	fs.BoolVarP(&version, "version", "v", false, "Print version information and quit")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if version {
		fmt.Printf("berthd version %s, build %s\n", api.EngineVersion, api.GitCommit)
		os.Exit(0)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	keys, err := daemon.LoadFile(*configFile, fs.Changed("config-file"), &cfg)
	if err != nil {
		return cfg, err
	}
	// flag name -> daemon.json key, and how to copy the flag's value.
	type binding struct {
		key   string
		apply func()
	}
	bindings := map[string]binding{
		"data-root":            {"data-root", func() { cfg.DataRoot = flagCfg.DataRoot }},
		"exec-root":            {"exec-root", func() { cfg.ExecRoot = flagCfg.ExecRoot }},
		"host":                 {"hosts", func() { cfg.Hosts = flagCfg.Hosts }},
		"log-level":            {"log-level", func() { cfg.LogLevel = flagCfg.LogLevel }},
		"debug":                {"debug", func() { cfg.Debug = flagCfg.Debug }},
		"pidfile":              {"pidfile", func() { cfg.Pidfile = flagCfg.Pidfile }},
		"tls":                  {"tls", func() { cfg.TLS = flagCfg.TLS }},
		"tlsverify":            {"tlsverify", func() { cfg.TLSVerify = flagCfg.TLSVerify }},
		"tlscacert":            {"tlscacert", func() { cfg.TLSCACert = flagCfg.TLSCACert }},
		"tlscert":              {"tlscert", func() { cfg.TLSCert = flagCfg.TLSCert }},
		"tlskey":               {"tlskey", func() { cfg.TLSKey = flagCfg.TLSKey }},
		"default-runtime":      {"default-runtime", func() { cfg.DefaultRuntime = flagCfg.DefaultRuntime }},
		"insecure-registry":    {"insecure-registries", func() { cfg.InsecureRegistries = append(cfg.InsecureRegistries, flagCfg.InsecureRegistries...) }},
		"registry-mirror":      {"registry-mirrors", func() { cfg.RegistryMirrors = flagCfg.RegistryMirrors }},
		"label":                {"labels", func() { cfg.Labels = flagCfg.Labels }},
		"bridge":               {"bridge", func() { cfg.Bridge = flagCfg.Bridge }},
		"default-address-pool": {"default-address-pools", func() { cfg.DefaultAddressPools = flagCfg.DefaultAddressPools }},
		"registry-certs-dir":   {"registry-certs-dir", func() { cfg.RegistryCertsDir = flagCfg.RegistryCertsDir }},
		"cgroup-favor-dynmods": {"cgroup-favor-dynmods", func() { cfg.CgroupFavorDynMods = flagCfg.CgroupFavorDynMods }},
	}
	var conflicts []string
	for name, b := range bindings {
		if !fs.Changed(name) {
			continue
		}
		if keys[b.key] {
			conflicts = append(conflicts, fmt.Sprintf("%s (flag --%s)", b.key, name))
			continue
		}
		b.apply()
	}
	if len(conflicts) > 0 {
		return cfg, fmt.Errorf("the following directives are specified both as a flag and in the configuration file %s: %s", *configFile, strings.Join(conflicts, ", "))
	}
	if cfg.Debug {
		cfg.LogLevel = "debug"
	}
	switch cfg.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return cfg, fmt.Errorf("invalid log level %q: use debug, info, warn or error", cfg.LogLevel)
	}
	return cfg, nil
}

func newLogger(cfg daemon.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// addressPools collects repeated --default-address-pool flags.
type addressPools struct{ pools *[]daemon.AddressPool }

func (a *addressPools) Set(v string) error {
	var p daemon.AddressPool
	if err := p.Set(v); err != nil {
		return err
	}
	*a.pools = append(*a.pools, p)
	return nil
}

func (a *addressPools) String() string {
	var out []string
	for _, p := range *a.pools {
		out = append(out, fmt.Sprintf("base=%s,size=%d", p.Base, p.Size))
	}
	return strings.Join(out, " ")
}

func (a *addressPools) Type() string { return "pool" }
