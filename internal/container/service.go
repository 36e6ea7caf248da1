package container

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/storage"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/api/filters"
	apitypes "github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/host"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/snapshot/overlay"
)

// Images is what the container service needs from the image service.
type Images interface {
	Get(ctx context.Context, name string) (*image.Image, error)
}

// Events receives what the service did.
type Events interface {
	Emit(typ, action, id string, attrs map[string]string)
}

// Service owns every container.
type Service struct {
	root    string // data-root/containers: one directory of records and logs per container
	images  Images
	layers  *overlay.Store
	volumes Volumes
	nets    Networks
	run     Runner
	events  Events
	log     *slog.Logger

	mu     sync.Mutex
	byID   map[string]*Container
	byName map[string]string // "/name" -> ID

	execMu sync.Mutex
	execs  map[string]*execProc
}

// New loads the container records under root and re-takes their volume references.
func New(root string, images Images, layers *overlay.Store, volumes Volumes, run Runner, ev Events, log *slog.Logger) (*Service, error) {
	if err := host.MkdirSpread(root, 0o700); err != nil {
		return nil, err
	}
	s := &Service{root: root, images: images, layers: layers, volumes: volumes, run: run, events: ev, log: log, byID: map[string]*Container{}, byName: map[string]string{}, execs: map[string]*execProc{}}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		c, err := loadRecord(filepath.Join(root, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			// A create that crashed before its record was written: nothing refers to it.
			os.RemoveAll(filepath.Join(root, e.Name()))
			layers.RemoveRW(e.Name())
			continue
		}
		if err != nil {
			log.Warn("skipping unreadable container record", "dir", e.Name(), "err", err)
			continue
		}
		s.byID[c.ID] = c
		s.byName[c.Name] = c.ID
		s.restoreMounts(c)
	}
	return s, nil
}

func (s *Service) dir(id string) string { return filepath.Join(s.root, id) }

var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// Get finds a container by full ID, name, or unique ID prefix.
func (s *Service) Get(ref string) (*Container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookup(ref)
}

func (s *Service) lookup(ref string) (*Container, error) {
	if ref == "" {
		return nil, errdefs.InvalidArgumentf("container name or ID must not be empty")
	}
	if c, ok := s.byID[ref]; ok {
		return c, nil
	}
	if id, ok := s.byName["/"+strings.TrimPrefix(ref, "/")]; ok {
		return s.byID[id], nil
	}
	var found *Container
	for id, c := range s.byID {
		if strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, errdefs.InvalidArgumentf("multiple IDs found with provided prefix: %s", ref)
			}
			found = c
		}
	}
	if found == nil {
		return nil, errdefs.NotFoundf("No such container: %s", ref)
	}
	return found, nil
}

// ImageUser reports a container using image id, preferring a running one, for rmi and prune.
func (s *Service) ImageUser(id digest.Digest) (string, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	user, inUse := "", false
	for _, c := range s.byID {
		if c.Image != id {
			continue
		}
		c.mu.Lock()
		running := c.State.Running
		c.mu.Unlock()
		if running {
			return c.ID, true, true
		}
		user, inUse = c.ID, true
	}
	return user, false, inUse
}

// Create makes a container from imageName with the request's config; nothing is left behind on error.
func (s *Service) Create(ctx context.Context, name string, cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig) (string, []string, error) {
	if cfg == nil || cfg.Image == "" {
		return "", nil, errdefs.InvalidArgumentf("no image specified: give an image to create the container from")
	}
	if hc == nil {
		hc = &container.HostConfig{}
	}
	if err := validateHostConfig(hc); err != nil {
		return "", nil, err
	}
	img, err := s.images.Get(ctx, cfg.Image)
	if err != nil {
		return "", nil, err
	}
	if hc.LogConfig.Type == "" {
		hc.LogConfig.Type = "json-file" // clients such as docker-py read logs back only for this driver
	}
	c := &Container{ID: newID(), Created: time.Now().UTC(), Image: img.ID, ImageName: cfg.Image, HostConfig: hc}
	if hc.Runtime == "" {
		hc.Runtime = s.run.DefaultRuntime // inspect shows the runtime the container runs with, as docker's does
	}
	if _, err := s.runtimeFor(c); err != nil {
		return "", nil, err
	}
	c.Config = mergeImageConfig(cfg, img)
	if err := oci.Validate(c.Config, hc); err != nil {
		return "", nil, err
	}
	if err := s.setupNetworking(c, nc); err != nil {
		return "", nil, err
	}
	if v := c.Config.Labels[apitypes.HealthOnFailureLabel]; !validHealthOnFailure(v) {
		return "", nil, errdefs.InvalidArgumentf("invalid %s label %q: use none, kill, restart or stop", apitypes.HealthOnFailureLabel, v)
	}
	argv := append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...)
	c.Path, c.Args = argv[0], argv[1:]
	if c.Config.Hostname == "" && hc.NetworkMode != "host" {
		c.Config.Hostname = c.ID[:12]
	}
	c.State = State{Status: string(container.StateCreated)}
	dir := s.dir(c.ID)
	c.LogPath = filepath.Join(dir, c.ID+"-json.log")
	c.HostnamePath = filepath.Join(dir, "hostname")
	c.HostsPath = filepath.Join(dir, "hosts")
	c.ResolvConfPath = filepath.Join(dir, "resolv.conf")
	// Mounts are resolved outside the lock: --volumes-from looks other containers up.
	if c.MountPoints, err = s.resolveMounts(ctx, c); err != nil {
		return "", nil, err
	}
	created := false
	defer func() {
		if !created {
			s.releaseMounts(ctx, c, true)
		}
	}()

	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		for {
			name = randomName()
			if _, taken := s.byName["/"+name]; !taken {
				break
			}
		}
	} else if !validName.MatchString(name) {
		return "", nil, errdefs.InvalidArgumentf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	c.Name = "/" + strings.TrimPrefix(name, "/")
	if other, taken := s.byName[c.Name]; taken {
		return "", nil, errdefs.Conflictf("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.", c.Name, other)
	}
	if err := s.layers.CreateRW(c.ID); err != nil {
		return "", nil, err
	}
	if err := c.save(dir); err != nil {
		os.RemoveAll(dir)
		s.layers.RemoveRW(c.ID)
		return "", nil, err
	}
	created = true
	s.byID[c.ID] = c
	s.byName[c.Name] = c.ID
	s.events.Emit("container", "create", c.ID, c.attributes())
	return c.ID, []string{}, nil
}

func validateHostConfig(hc *container.HostConfig) error {
	r := hc.RestartPolicy
	switch r.Name {
	case "", "no", "always", "unless-stopped":
		if r.MaximumRetryCount != 0 {
			return errdefs.InvalidArgumentf("invalid restart policy: maximum retry count can only be used with 'on-failure'")
		}
	case "on-failure":
		if r.MaximumRetryCount < 0 {
			return errdefs.InvalidArgumentf("invalid restart policy: maximum retry count cannot be negative")
		}
	default:
		return errdefs.InvalidArgumentf("invalid restart policy: unknown policy '%s'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'", r.Name)
	}
	if hc.AutoRemove && r.Name != "" && r.Name != "no" {
		return errdefs.InvalidArgumentf("can't create 'AutoRemove' container with restart policy")
	}
	if hc.Memory != 0 && hc.Memory < 6*1024*1024 {
		return errdefs.InvalidArgumentf("Minimum memory limit allowed is 6MB")
	}
	if hc.MemorySwap > 0 && hc.Memory > 0 && hc.MemorySwap < hc.Memory {
		return errdefs.InvalidArgumentf("Minimum memoryswap limit should be larger than memory limit, see usage")
	}
	return nil
}

// mergeImageConfig fills what the request left empty from the image, as docker does.
func mergeImageConfig(req *container.Config, img *image.Image) *container.Config {
	c := *req
	ic := img.Config.Config
	if len(c.Entrypoint) == 0 {
		c.Entrypoint = ic.Entrypoint
		if len(c.Cmd) == 0 {
			c.Cmd = ic.Cmd
		}
	}
	if c.WorkingDir == "" {
		c.WorkingDir = ic.WorkingDir
	}
	if c.User == "" {
		c.User = ic.User
	}
	if c.StopSignal == "" {
		c.StopSignal = ic.StopSignal
	}
	env := map[string]bool{}
	for _, e := range c.Env {
		k, _, _ := strings.Cut(e, "=")
		env[k] = true
	}
	merged := []string{}
	for _, e := range ic.Env {
		if k, _, _ := strings.Cut(e, "="); !env[k] {
			merged = append(merged, e)
		}
	}
	c.Env = append(merged, c.Env...)
	if len(ic.Labels) > 0 {
		labels := map[string]string{}
		for k, v := range ic.Labels {
			labels[k] = v
		}
		for k, v := range c.Labels {
			labels[k] = v
		}
		c.Labels = labels
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	if len(ic.ExposedPorts) > 0 {
		ports := network.PortSet{}
		for p := range ic.ExposedPorts {
			if port, err := network.ParsePort(p); err == nil {
				ports[port] = struct{}{}
			}
		}
		for p := range c.ExposedPorts {
			ports[p] = struct{}{}
		}
		c.ExposedPorts = ports
	}
	if len(ic.Volumes) > 0 {
		vols := map[string]struct{}{}
		for v := range ic.Volumes {
			vols[v] = struct{}{}
		}
		for v := range c.Volumes {
			vols[v] = struct{}{}
		}
		c.Volumes = vols
	}
	if c.Healthcheck == nil && img.Config.Config.Healthcheck != nil {
		h := img.Config.Config.Healthcheck
		c.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	return &c
}

// List returns containers as GET /containers/json reports them, newest first.
func (s *Service) List(ctx context.Context, all bool, limit int, f filters.Args) ([]container.Summary, error) {
	if err := f.Validate("id", "name", "label", "label!", "status", "exited", "ancestor", "before", "since"); err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	s.mu.Lock()
	cs := make([]*Container, 0, len(s.byID))
	for _, c := range s.byID {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	sort.Slice(cs, func(i, j int) bool { return cs[i].Created.After(cs[j].Created) })
	now := time.Now()
	out := []container.Summary{}
	for _, c := range cs {
		c.mu.Lock()
		sum := c.summary(now)
		running := c.State.Running
		c.mu.Unlock()
		if !all && !running && !f.Has("status") && !f.Has("exited") && limit <= 0 {
			continue
		}
		if !matches(sum, f) {
			continue
		}
		out = append(out, sum)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

func matches(sum container.Summary, f filters.Args) bool {
	if ids := f.Get("id"); len(ids) > 0 && !anyPrefix(sum.ID, ids) {
		return false
	}
	if names := f.Get("name"); len(names) > 0 {
		ok := false
		for _, n := range names {
			if strings.Contains(sum.Names[0], strings.TrimPrefix(n, "/")) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if st := f.Get("status"); len(st) > 0 && !contains(st, string(sum.State)) {
		return false
	}
	if ex := f.Get("exited"); len(ex) > 0 {
		code := ""
		if sum.State == container.StateExited {
			fmt.Sscanf(sum.Status, "Exited (%s", &code)
			code = strings.TrimSuffix(code, ")")
		}
		if !contains(ex, code) {
			return false
		}
	}
	if anc := f.Get("ancestor"); len(anc) > 0 && !contains(anc, sum.Image) && !anyPrefix(sum.ImageID, anc) {
		return false
	}
	return f.MatchLabels("label", sum.Labels)
}

func anyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) || strings.HasPrefix(strings.TrimPrefix(s, "sha256:"), p) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (c *Container) summary(now time.Time) container.Summary {
	cmd := strings.Join(append([]string{c.Path}, c.Args...), " ")
	sum := container.Summary{
		ID: c.ID, Names: []string{c.Name}, Image: c.ImageName, ImageID: c.Image.String(), Command: cmd,
		Created: c.Created.Unix(), Ports: c.portSummary(), Labels: c.Config.Labels,
		State: container.ContainerState(c.State.Status), Status: c.statusText(now), Mounts: c.mountPoints(),
	}
	sum.HostConfig.NetworkMode = string(c.HostConfig.NetworkMode)
	sum.NetworkSettings = &container.NetworkSettingsSummary{Networks: c.networkSettings().Networks}
	return sum
}

// Inspect returns docker's inspect view of a container.
func (s *Service) Inspect(ctx context.Context, ref string) (*container.InspectResponse, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.State
	resp := &container.InspectResponse{
		ID: c.ID, Created: c.Created.Format(time.RFC3339Nano), Path: c.Path, Args: c.Args,
		State: &container.State{
			Status: container.ContainerState(st.Status), Running: st.Running, Paused: st.Paused, Restarting: st.Restarting,
			OOMKilled: st.OOMKilled, Dead: st.Dead, Pid: st.Pid, ExitCode: st.ExitCode, Error: st.Error,
			StartedAt: formatTime(st.StartedAt), FinishedAt: formatTime(st.FinishedAt), Health: st.Health,
		},
		Image: c.Image.String(), ResolvConfPath: c.ResolvConfPath, HostnamePath: c.HostnamePath, HostsPath: c.HostsPath,
		LogPath: c.LogPath, Name: c.Name, RestartCount: c.RestartCount, Driver: "overlay2", Platform: "linux",
		ExecIDs: nil, HostConfig: c.HostConfig, Mounts: c.mountPoints(), Config: c.Config,
		GraphDriver: &storage.DriverData{Name: "overlay2", Data: map[string]string{
			"UpperDir": s.layers.UpperDir(c.ID), "MergedDir": s.layers.MergedDir(c.ID),
		}},
		NetworkSettings: c.networkSettings(),
	}
	return resp, nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.Format(time.RFC3339Nano)
}

// Counts returns how many containers there are, by state, for /info.
func (s *Service) Counts() (total, running, paused, stopped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.byID {
		c.mu.Lock()
		switch {
		case c.State.Paused:
			paused++
		case c.State.Running:
			running++
		default:
			stopped++
		}
		c.mu.Unlock()
		total++
	}
	return
}
