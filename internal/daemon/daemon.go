// Package daemon wires berthd together: it takes the data root lock, opens the stores, builds the
// services and the API server, and shuts them down in order. It holds no business logic.
package daemon

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	apievents "github.com/moby/moby/api/types/events"

	apitypes "github.com/berth-project/berth/api/types"
	apiimage "github.com/moby/moby/api/types/image"
	apivolume "github.com/moby/moby/api/types/volume"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/build"
	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/events"
	"github.com/berth-project/berth/internal/host"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/metadata"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/server"
	buildrouter "github.com/berth-project/berth/internal/server/router/build"
	containerrouter "github.com/berth-project/berth/internal/server/router/container"
	imagerouter "github.com/berth-project/berth/internal/server/router/image"
	networkrouter "github.com/berth-project/berth/internal/server/router/network"
	systemrouter "github.com/berth-project/berth/internal/server/router/system"
	volumerouter "github.com/berth-project/berth/internal/server/router/volume"
	"github.com/berth-project/berth/internal/snapshot/overlay"
	"github.com/berth-project/berth/internal/volume"
)

// Daemon is a running berthd.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	lock   *os.File
	db     *metadata.DB
	nets   *network.Service
	server *server.Server
	errc   <-chan error
}

// Start brings the daemon up and starts serving; it returns once the sockets accept connections.
func Start(cfg Config, log *slog.Logger) (*Daemon, error) {
	d := &Daemon{cfg: cfg, log: log}
	if err := d.start(); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) start() error {
	cfg := d.cfg
	if err := os.MkdirAll(cfg.DataRoot, 0o711); err != nil {
		return fmt.Errorf("create data root: %w", err)
	}
	if err := host.MkdirSpread(filepath.Join(cfg.ExecRoot, "containers"), 0o700); err != nil {
		return fmt.Errorf("create exec root: %w", err)
	}
	if err := d.takeLock(); err != nil {
		return err
	}
	if cfg.Pidfile != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.Pidfile), 0o755); err != nil {
			return err
		}
		if err := metadata.WriteFile(cfg.Pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return fmt.Errorf("write pidfile: %w", err)
		}
	}
	db, err := metadata.Open(filepath.Join(cfg.DataRoot, "metadata.db"))
	if err != nil {
		return err
	}
	d.db = db
	cs, err := content.New(filepath.Join(cfg.DataRoot, "content"))
	if err != nil {
		return fmt.Errorf("open content store: %w", err)
	}
	layers, err := overlay.New(filepath.Join(cfg.DataRoot, "overlay"))
	if err != nil {
		return fmt.Errorf("open layer store: %w", err)
	}
	images, err := image.New(cs, layers, db, d.log.With("component", "image"))
	if err != nil {
		return err
	}
	bus := events.New()
	volumes, err := volume.New(filepath.Join(cfg.DataRoot, "volumes"), db, bus, d.log.With("component", "volume"))
	if err != nil {
		return fmt.Errorf("open volume store: %w", err)
	}
	if cfg.CgroupFavorDynMods {
		favorDynMods(d.log)
	}
	rts := map[string]*runtime.Runtime{}
	for name, path := range runtimes(cfg) {
		if filepath.Base(path) == "crun" {
			prepareForCrun(d.log)
		}
		rt, err := runtime.New(name, path, filepath.Join(cfg.ExecRoot, "runtime", name))
		if err != nil {
			return err
		}
		rts[name] = rt
	}
	shimPath, err := helperBinary("berth-shim")
	if err != nil {
		return err
	}
	facts := host.Read()
	containers, err := container.New(filepath.Join(cfg.DataRoot, "containers"), images, layers, volumes, container.Runner{
		ExecRoot: filepath.Join(cfg.ExecRoot, "containers"), ShmRoot: filepath.Join(cfg.ExecRoot, "shm"), ShimPath: shimPath, Runtimes: rts,
		DefaultRuntime: cfg.DefaultRuntime, InitPath: initBinary(), NoX32ABI: !host.HasX32ABI(facts.Kernel),
	}, bus, d.log.With("component", "container"))
	if err != nil {
		return err
	}
	images.SetUsers(containers)
	pools, err := addressPools(cfg.DefaultAddressPools)
	if err != nil {
		return err
	}
	nets, err := network.New(context.Background(), network.Config{
		DB: db, StateDir: filepath.Join(cfg.ExecRoot, "network"), Bridge: cfg.Bridge, Pools: pools, Log: d.log.With("component", "network"),
	})
	if err != nil {
		return fmt.Errorf("networking: %w", err)
	}
	d.nets = nets
	containers.SetNetworks(nets)
	reg, err := registry.New(registryConfig(cfg))
	if err != nil {
		return err
	}
	images.SetRegistry(reg)
	containers.Restore(context.Background())
	nets.RemoveOrphans() // after the restore, which claims the namespaces of running containers
	builder, err := build.New(context.Background(), filepath.Join(cfg.DataRoot, "build"), db, images, containers, layers, &http.Client{}, d.log.With("component", "build"))
	if err != nil {
		return err
	}
	id, err := engineID(cfg.DataRoot)
	if err != nil {
		return err
	}
	sysCfg := systemrouter.Config{
		ID:              id,
		DataRoot:        cfg.DataRoot,
		ExecRoot:        cfg.ExecRoot,
		Debug:           cfg.Debug,
		DefaultRuntime:  cfg.DefaultRuntime,
		Runtimes:        runtimes(cfg),
		InsecureCIDRs:   cfg.InsecureRegistries,
		RegistryMirrors: cfg.RegistryMirrors,
		Labels:          cfg.Labels,
	}
	d.server = server.New(d.log.With("component", "api"),
		systemrouter.New(systemBackend{images, containers, volumes, bus, reg, builder}, sysCfg, facts, d.log),
		imagerouter.New(images, &http.Client{Timeout: 0}),
		containerrouter.New(containers),
		volumerouter.New(volumes),
		networkrouter.New(networkBackend{nets, containers}),
		buildrouter.New(builder),
	)
	tlsConfig, err := d.tlsConfig()
	if err != nil {
		return err
	}
	hosts := cfg.Hosts
	if len(hosts) == 0 {
		hosts = []string{cfg.DefaultSocket()}
	}
	ls, err := d.server.Listen(hosts, tlsConfig)
	if err != nil {
		return err
	}
	d.errc = d.server.Serve(ls)
	d.log.Info("berthd started", "data_root", cfg.DataRoot, "hosts", strings.Join(hosts, ","), "pid", os.Getpid())
	return nil
}

// takeLock makes sure no other daemon uses the data root.
func (d *Daemon) takeLock() error {
	path := filepath.Join(d.cfg.DataRoot, "berthd.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		raw, _ := os.ReadFile(path)
		f.Close()
		holder := strings.TrimSpace(string(raw))
		if holder == "" {
			holder = "unknown"
		}
		return fmt.Errorf("data root %s is in use by another berthd (pid %s); stop it or pick another --data-root", d.cfg.DataRoot, holder)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	d.lock = f
	return nil
}

func (d *Daemon) tlsConfig() (*tls.Config, error) {
	cfg := d.cfg
	if !cfg.TLS && !cfg.TLSVerify {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.TLSVerify {
		pem, err := os.ReadFile(cfg.TLSCACert)
		if err != nil {
			return nil, fmt.Errorf("read TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificates found in %s", cfg.TLSCACert)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// Errors reports fatal serving errors.
func (d *Daemon) Errors() <-chan error { return d.errc }

// Shutdown stops serving, waiting up to timeout for requests in flight, and releases the stores.
func (d *Daemon) Shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	if d.server != nil {
		err = d.server.Shutdown(ctx)
	}
	d.close()
	d.log.Info("berthd stopped")
	return err
}

func (d *Daemon) close() {
	if d.nets != nil {
		d.nets.Close()
	}
	if d.db != nil {
		d.db.Close()
	}
	if d.cfg.Pidfile != "" && d.lock != nil {
		os.Remove(d.cfg.Pidfile)
	}
	for _, h := range d.cfg.Hosts {
		if p, ok := strings.CutPrefix(h, "unix://"); ok && d.lock != nil {
			os.Remove(p)
		}
	}
	if len(d.cfg.Hosts) == 0 && d.lock != nil {
		os.Remove(strings.TrimPrefix(d.cfg.DefaultSocket(), "unix://"))
	}
	if d.lock != nil {
		d.lock.Close()
	}
}

// engineID returns the daemon's stable identity, made on first start.
func engineID(root string) (string, error) {
	path := filepath.Join(root, "engine-id")
	raw, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(raw))) > 0 {
		return strings.TrimSpace(string(raw)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	h := hex.EncodeToString(b)
	id := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	return id, metadata.WriteFile(path, []byte(id+"\n"), 0o600)
}

// addressPools expands the configured default-address-pools into candidate subnets.
func addressPools(cfg []AddressPool) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range cfg {
		base, err := netip.ParsePrefix(p.Base)
		if err != nil {
			return nil, fmt.Errorf("default-address-pools: %w", err)
		}
		subnets, err := network.ExpandPool(base, p.Size)
		if err != nil {
			return nil, fmt.Errorf("default-address-pools: %w", err)
		}
		out = append(out, subnets...)
	}
	return out, nil
}

// favorDynMods speeds up container starts (see host.FavorDynMods); without it they are only slower.
func favorDynMods(log *slog.Logger) {
	changed, err := host.FavorDynMods("/sys/fs/cgroup")
	if err != nil {
		log.Warn("cgroup v2 hierarchy left as it is; container starts may wait for an RCU grace period", "err", err)
	}
	if changed {
		log.Info("remounted the cgroup v2 hierarchy with favordynmods so that moving containers into cgroups does not wait for RCU (cgroup-favor-dynmods: false keeps the host's mount)")
	}
}

// prepareForCrun readies a hybrid cgroup host for crun (see host.UnbindUnifiedControllers); a
// failure only costs crun, so it is logged, not fatal.
func prepareForCrun(log *slog.Logger) {
	moved, err := host.UnbindUnifiedControllers("/sys/fs/cgroup")
	if err != nil {
		log.Warn("crun will refuse to run containers on this hybrid cgroup host", "err", err)
	}
	if len(moved) > 0 {
		log.Info("moved cgroup controllers from the v2 to v1 hierarchies so that crun can run", "controllers", moved)
	}
}

// runtimes lists the configured OCI runtimes, adding runc and crun when they are installed.
func runtimes(cfg Config) map[string]string {
	out := map[string]string{}
	for name, rt := range cfg.Runtimes {
		out[name] = rt.Path
	}
	for _, name := range []string{"runc", "crun"} {
		if _, ok := out[name]; ok {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			out[name] = p
		}
	}
	return out
}

// helperBinary finds a berth helper program beside berthd, else on PATH.
func helperBinary(name string) (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found beside berthd or on PATH: build it with 'make build'", name)
	}
	return p, nil
}

// initBinary finds the minimal init that --init runs as PID 1.
func initBinary() string {
	for _, name := range []string{"docker-init", "tini", "catatonit"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// systemBackend adapts the services to what the system router asks.
type systemBackend struct {
	images     *image.Service
	containers *container.Service
	volumes    *volume.Service
	events     *events.Bus
	registry   *registry.Client
	builder    *build.Service
}

func (b systemBackend) Login(ctx context.Context, auth registry.AuthConfig) error {
	return b.registry.Login(ctx, auth)
}

// registryConfig is how berthd reaches registries; loopback is always insecure, as in docker.
func registryConfig(cfg Config) registry.Config {
	rc := registry.Config{Insecure: append([]string{"127.0.0.0/8"}, cfg.InsecureRegistries...), Mirrors: cfg.RegistryMirrors}
	if cfg.RegistryCertsDir != "" {
		rc.CertsDirs = []string{cfg.RegistryCertsDir}
	}
	return rc
}

func (b systemBackend) SubscribeEvents(since time.Time) ([]apievents.Message, <-chan apievents.Message, func()) {
	return b.events.Subscribe(since)
}

func (b systemBackend) ContainerCounts() (total, running, paused, stopped int) {
	return b.containers.Counts()
}

func (b systemBackend) ImageCount() (int, error) { return b.images.Count() }

func (b systemBackend) ImageDiskUsage(ctx context.Context) ([]apiimage.Summary, int64, error) {
	return b.images.DiskUsage(ctx)
}

func (b systemBackend) BuildCacheDiskUsage(ctx context.Context) ([]apitypes.BuildCache, error) {
	return b.builder.DiskUsage(ctx)
}

func (b systemBackend) VolumeDiskUsage(ctx context.Context) ([]*apivolume.Volume, error) {
	return b.volumes.DiskUsage(ctx)
}
