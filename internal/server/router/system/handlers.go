package system

import (
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"

	"github.com/berth-project/berth/api"
	"github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/host"
	"github.com/berth-project/berth/internal/server"
)

func (rt *Router) ping(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Docker-Experimental", "false")
	h.Set("Builder-Version", "1") // the legacy builder until BuildKit's session endpoints exist
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write([]byte("OK"))
	return err
}

func (rt *Router) version(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	v := system.VersionResponse{
		Platform:      struct{ Name string }{Name: "berth"},
		Version:       api.EngineVersion,
		APIVersion:    api.DefaultVersion,
		MinAPIVersion: api.MinVersion,
		GitCommit:     api.GitCommit,
		GoVersion:     runtime.Version(),
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		KernelVersion: rt.host.Kernel,
		BuildTime:     api.BuildTime,
	}
	v.Components = []system.ComponentVersion{{
		Name:    "Engine",
		Version: api.EngineVersion,
		Details: map[string]string{
			"ApiVersion":    api.DefaultVersion,
			"MinAPIVersion": api.MinVersion,
			"GitCommit":     api.GitCommit,
			"GoVersion":     runtime.Version(),
			"Os":            runtime.GOOS,
			"Arch":          runtime.GOARCH,
			"KernelVersion": rt.host.Kernel,
			"BuildTime":     api.BuildTime,
			"Experimental":  "false",
		},
	}}
	for _, name := range sortedKeys(rt.cfg.Runtimes) {
		path := rt.cfg.Runtimes[name]
		v.Components = append(v.Components, system.ComponentVersion{Name: name, Version: rt.runtimeVersion(path), Details: map[string]string{"Path": path}})
	}
	return server.WriteJSON(w, http.StatusOK, v)
}

func (rt *Router) info(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	images, err := rt.backend.ImageCount()
	if err != nil {
		return err
	}
	cgroupVersion := "1"
	if rt.host.Cgroup == host.CgroupV2 {
		cgroupVersion = "2"
	}
	total, running, paused, stopped := rt.backend.ContainerCounts()
	info := system.Info{
		ID:                 rt.cfg.ID,
		Containers:         total,
		ContainersRunning:  running,
		ContainersPaused:   paused,
		ContainersStopped:  stopped,
		Images:             images,
		Driver:             "overlay2",
		DriverStatus:       [][2]string{{"Backing Filesystem", host.FilesystemName(rt.cfg.DataRoot)}, {"Supports d_type", "true"}, {"Native Overlay Diff", "true"}},
		Plugins:            system.PluginsInfo{Volume: []string{"local"}, Network: []string{"bridge", "host", "null"}, Log: []string{"json-file"}},
		MemoryLimit:        true,
		SwapLimit:          rt.host.Cgroup != host.CgroupV1,
		CPUCfsPeriod:       true,
		CPUCfsQuota:        true,
		CPUShares:          true,
		CPUSet:             true,
		PidsLimit:          true,
		IPv4Forwarding:     ipForwarding(),
		Debug:              rt.cfg.Debug,
		NFd:                openFDs(),
		NGoroutines:        runtime.NumGoroutine(),
		SystemTime:         time.Now().Format(time.RFC3339Nano),
		LoggingDriver:      "json-file",
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      cgroupVersion,
		KernelVersion:      rt.host.Kernel,
		OperatingSystem:    rt.host.OperatingSystem,
		OSVersion:          rt.host.OSVersion,
		OSType:             "linux",
		Architecture:       rt.host.Architecture,
		IndexServerAddress: "https://index.docker.io/v1/",
		NCPU:               rt.host.NCPU,
		MemTotal:           rt.host.MemTotal,
		DockerRootDir:      rt.cfg.DataRoot,
		Name:               rt.host.Hostname,
		Labels:             append([]string{}, rt.cfg.Labels...),
		ServerVersion:      api.EngineVersion,
		DefaultRuntime:     rt.cfg.DefaultRuntime,
		Runtimes:           map[string]system.RuntimeWithStatus{},
		Swarm:              swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
		LiveRestoreEnabled: true,
		Isolation:          "",
		InitBinary:         "docker-init",
		SecurityOptions:    []string{"name=seccomp,profile=builtin"},
		Warnings:           []string{},
		RegistryConfig:     rt.registryConfig(),
	}
	for name, path := range rt.cfg.Runtimes {
		info.Runtimes[name] = system.RuntimeWithStatus{Runtime: system.Runtime{Path: path}}
	}
	return server.WriteJSON(w, http.StatusOK, info)
}

func (rt *Router) registryConfig() *registry.ServiceConfig {
	cfg := &registry.ServiceConfig{
		IndexConfigs: map[string]*registry.IndexInfo{
			"docker.io": {Name: "docker.io", Mirrors: append([]string{}, rt.cfg.RegistryMirrors...), Secure: true, Official: true},
		},
		Mirrors: append([]string{}, rt.cfg.RegistryMirrors...),
	}
	for _, c := range rt.cfg.InsecureCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			cfg.InsecureRegistryCIDRs = append(cfg.InsecureRegistryCIDRs, p)
		}
	}
	return cfg
}

func (rt *Router) diskUsage(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	images, layers, err := rt.backend.ImageDiskUsage(r.Context())
	if err != nil {
		return err
	}
	du := types.DiskUsage{LayersSize: layers, Containers: []any{}, Volumes: []any{}, BuildCache: []any{}}
	for i := range images {
		du.Images = append(du.Images, &images[i])
	}
	if du.Images == nil {
		du.Images = []*image.Summary{}
	}
	vols, err := rt.backend.VolumeDiskUsage(r.Context())
	if err != nil {
		return err
	}
	for _, v := range vols {
		du.Volumes = append(du.Volumes, v)
	}
	cache, err := rt.backend.BuildCacheDiskUsage(r.Context())
	if err != nil {
		return err
	}
	for i := range cache {
		du.BuildCache = append(du.BuildCache, &cache[i])
	}
	return server.WriteJSON(w, http.StatusOK, du)
}

func ipForwarding() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	return err == nil && len(b) > 0 && b[0] == '1'
}

func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(entries)
}

// runtimeVersion asks a runtime binary for its version once and remembers the answer.
func (rt *Router) runtimeVersion(path string) string {
	rt.versionsMu.Lock()
	defer rt.versionsMu.Unlock()
	if v, ok := rt.versions[path]; ok {
		return v
	}
	v := ""
	if out, err := exec.Command(path, "--version").Output(); err == nil {
		// "runc version 1.1.5" / "crun version 1.8.1"
		first, _, _ := strings.Cut(string(out), "\n")
		if _, after, ok := strings.Cut(first, "version "); ok {
			v = strings.TrimSpace(after)
		}
	}
	rt.versions[path] = v
	return v
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
