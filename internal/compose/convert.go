package compose

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/cli/format"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// createRequest is what POST /containers/create gets for one container of a service.
type createRequest struct {
	name       string
	config     *container.Config
	hostConfig *container.HostConfig
	networking *network.NetworkingConfig
}

// containerRequest converts service s into the create request of the container called name.
func containerRequest(p *types.Project, s types.ServiceConfig, name string, labels map[string]string) (createRequest, error) {
	cfg := &container.Config{
		Hostname:    s.Hostname,
		Domainname:  s.DomainName,
		User:        s.User,
		Tty:         s.Tty,
		OpenStdin:   s.StdinOpen,
		Env:         environment(s.Environment),
		Cmd:         s.Command,
		Entrypoint:  s.Entrypoint,
		Image:       ImageName(p.Name, s),
		WorkingDir:  s.WorkingDir,
		Labels:      labels,
		StopSignal:  s.StopSignal,
		Healthcheck: healthcheck(s.HealthCheck),
	}
	if s.StopGracePeriod != nil {
		t := int(time.Duration(*s.StopGracePeriod).Seconds())
		cfg.StopTimeout = &t
	}
	exposed, bindings, err := ports(s)
	if err != nil {
		return createRequest{}, err
	}
	cfg.ExposedPorts = exposed

	restart, err := restartPolicy(s)
	if err != nil {
		return createRequest{}, err
	}
	hc := &container.HostConfig{
		PortBindings:   bindings,
		RestartPolicy:  restart,
		ReadonlyRootfs: s.ReadOnly,
		Init:           s.Init,
		ExtraHosts:     s.ExtraHosts.AsList(":"),
		DNSOptions:     s.DNSOpts,
		DNSSearch:      s.DNSSearch,
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		Privileged:     s.Privileged,
		SecurityOpt:    s.SecurityOpt,
		GroupAdd:       s.GroupAdd,
		Sysctls:        s.Sysctls,
		ShmSize:        int64(s.ShmSize),
		PidMode:        container.PidMode(s.Pid),
		IpcMode:        container.IpcMode(s.Ipc),
		Runtime:        s.Runtime,
		Tmpfs:          tmpfsMap(s.Tmpfs),
	}
	for _, d := range s.DNS {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return createRequest{}, fmt.Errorf("service %q: dns: invalid IP address %q", s.Name, d)
		}
		hc.DNS = append(hc.DNS, a)
	}
	resources(s, &hc.Resources)
	if s.Logging != nil {
		hc.LogConfig = container.LogConfig{Type: s.Logging.Driver, Config: s.Logging.Options}
	}
	if err := mounts(p, s, hc); err != nil {
		return createRequest{}, err
	}
	nc, mode, err := networks(p, s, name)
	if err != nil {
		return createRequest{}, err
	}
	hc.NetworkMode = container.NetworkMode(mode)
	return createRequest{name: name, config: cfg, hostConfig: hc, networking: nc}, nil
}

// environment is KEY=VALUE for every set variable; a bare KEY with no value is left out.
func environment(m types.MappingWithEquals) []string {
	var env []string
	for _, k := range format.SortedKeys(m) {
		if v := m[k]; v != nil {
			env = append(env, k+"="+*v)
		}
	}
	return env
}

func healthcheck(h *types.HealthCheckConfig) *container.HealthConfig {
	if h == nil {
		return nil
	}
	if h.Disable {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	out := &container.HealthConfig{Test: h.Test}
	dur := func(d *types.Duration) time.Duration {
		if d == nil {
			return 0
		}
		return time.Duration(*d)
	}
	out.Interval, out.Timeout = dur(h.Interval), dur(h.Timeout)
	out.StartPeriod, out.StartInterval = dur(h.StartPeriod), dur(h.StartInterval)
	if h.Retries != nil {
		out.Retries = int(*h.Retries)
	}
	return out
}

// ports turns ports: and expose: into the exposed set and the bindings.
func ports(s types.ServiceConfig) (network.PortSet, network.PortMap, error) {
	exposed := network.PortSet{}
	bindings := network.PortMap{}
	for _, e := range s.Expose {
		num, proto, _ := strings.Cut(e, "/")
		port, err := network.ParsePort(num + "/" + protoOr(proto))
		if err != nil {
			return nil, nil, fmt.Errorf("service %q: expose: %w", s.Name, err)
		}
		exposed[port] = struct{}{}
	}
	for _, pc := range s.Ports {
		port, err := network.ParsePort(strconv.Itoa(int(pc.Target)) + "/" + protoOr(pc.Protocol))
		if err != nil {
			return nil, nil, fmt.Errorf("service %q: ports: %w", s.Name, err)
		}
		exposed[port] = struct{}{}
		b := network.PortBinding{HostPort: pc.Published}
		if pc.HostIP != "" {
			ip, err := netip.ParseAddr(pc.HostIP)
			if err != nil {
				return nil, nil, fmt.Errorf("service %q: ports: invalid host IP %q", s.Name, pc.HostIP)
			}
			b.HostIP = ip
		}
		bindings[port] = append(bindings[port], b)
	}
	if len(exposed) == 0 {
		exposed = nil
	}
	if len(bindings) == 0 {
		bindings = nil
	}
	return exposed, bindings, nil
}

func protoOr(p string) string {
	if p == "" {
		return "tcp"
	}
	return strings.ToLower(p)
}

// restartPolicy reads restart:, or deploy.restart_policy when restart: is unset.
func restartPolicy(s types.ServiceConfig) (container.RestartPolicy, error) {
	if s.Restart == "" && s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		rp := s.Deploy.RestartPolicy
		out := container.RestartPolicy{Name: container.RestartPolicyMode(rp.Condition)}
		switch rp.Condition {
		case "none", "":
			out.Name = container.RestartPolicyDisabled
		case "any":
			out.Name = container.RestartPolicyAlways
		}
		if rp.MaxAttempts != nil {
			out.MaximumRetryCount = int(*rp.MaxAttempts)
		}
		return out, nil
	}
	name, count, _ := strings.Cut(s.Restart, ":")
	out := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	if name == "" {
		out.Name = container.RestartPolicyDisabled
	}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return out, fmt.Errorf("service %q: restart: invalid maximum retry count %q", s.Name, count)
		}
		out.MaximumRetryCount = n
	}
	return out, nil
}

// resources applies the service-level limits, then deploy.resources.limits over them.
func resources(s types.ServiceConfig, r *container.Resources) {
	r.Memory = int64(s.MemLimit)
	r.MemoryReservation = int64(s.MemReservation)
	r.MemorySwap = int64(s.MemSwapLimit)
	r.NanoCPUs = int64(s.CPUS * 1e9)
	r.CPUShares = s.CPUShares
	r.CPUQuota, r.CPUPeriod, r.CpusetCpus = s.CPUQuota, s.CPUPeriod, s.CPUSet
	if s.PidsLimit != 0 {
		r.PidsLimit = &s.PidsLimit
	}
	for name, u := range s.Ulimits {
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		r.Ulimits = append(r.Ulimits, &container.Ulimit{Name: name, Soft: soft, Hard: hard})
	}
	if s.Deploy == nil || s.Deploy.Resources.Limits == nil {
		return
	}
	l := s.Deploy.Resources.Limits
	if l.NanoCPUs != 0 {
		r.NanoCPUs = int64(float64(l.NanoCPUs) * 1e9)
	}
	if l.MemoryBytes != 0 {
		r.Memory = int64(l.MemoryBytes)
	}
	if l.Pids != 0 {
		r.PidsLimit = &l.Pids
	}
}

func tmpfsMap(list types.StringList) map[string]string {
	if len(list) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, t := range list {
		dst, opts, _ := strings.Cut(t, ":")
		m[dst] = opts
	}
	return m
}

// mounts turns volumes:, secrets: and configs: into Binds (short-syntax binds, which create a
// missing host directory as docker does) and Mounts (everything else).
func mounts(p *types.Project, s types.ServiceConfig, hc *container.HostConfig) error {
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeBind:
			if v.Bind != nil && bool(v.Bind.CreateHostPath) {
				bind := v.Source + ":" + v.Target
				var opts []string
				if v.ReadOnly {
					opts = append(opts, "ro")
				}
				if v.Bind.Propagation != "" {
					opts = append(opts, v.Bind.Propagation)
				}
				if len(opts) > 0 {
					bind += ":" + strings.Join(opts, ",")
				}
				hc.Binds = append(hc.Binds, bind)
				continue
			}
			m := mount.Mount{Type: mount.TypeBind, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Bind != nil && v.Bind.Propagation != "" {
				m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(v.Bind.Propagation)}
			}
			hc.Mounts = append(hc.Mounts, m)
		case types.VolumeTypeVolume:
			m := mount.Mount{Type: mount.TypeVolume, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Source != "" {
				vol, ok := p.Volumes[v.Source]
				if !ok {
					return fmt.Errorf("service %q refers to undefined volume %s", s.Name, v.Source)
				}
				m.Source = vol.Name
			}
			if v.Volume != nil {
				m.VolumeOptions = &mount.VolumeOptions{NoCopy: v.Volume.NoCopy, Subpath: v.Volume.Subpath}
			}
			hc.Mounts = append(hc.Mounts, m)
		case types.VolumeTypeTmpfs:
			m := mount.Mount{Type: mount.TypeTmpfs, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Tmpfs != nil {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size)}
				if v.Tmpfs.Mode != 0 {
					m.TmpfsOptions.Mode = os.FileMode(v.Tmpfs.Mode)
				}
			}
			hc.Mounts = append(hc.Mounts, m)
		default:
			return fmt.Errorf("service %q: volume type %q is not supported", s.Name, v.Type)
		}
	}
	for _, ref := range s.Secrets {
		def, ok := p.Secrets[ref.Source]
		if !ok {
			return fmt.Errorf("service %q refers to undefined secret %s", s.Name, ref.Source)
		}
		if err := fileBind(hc, s.Name, "secret", types.FileObjectConfig(def), types.FileReferenceConfig(ref), "/run/secrets/"); err != nil {
			return err
		}
	}
	for _, ref := range s.Configs {
		def, ok := p.Configs[ref.Source]
		if !ok {
			return fmt.Errorf("service %q refers to undefined config %s", s.Name, ref.Source)
		}
		if err := fileBind(hc, s.Name, "config", types.FileObjectConfig(def), types.FileReferenceConfig(ref), "/"); err != nil {
			return err
		}
	}
	return nil
}

// fileBind bind-mounts a file-based secret or config read-only at its target (relative
// targets under dir, the default dir+source).
func fileBind(hc *container.HostConfig, service, kind string, def types.FileObjectConfig, ref types.FileReferenceConfig, dir string) error {
	if def.File == "" {
		return fmt.Errorf("service %q: %s %q: only file-based %ss are supported", service, kind, ref.Source, kind)
	}
	target := ref.Target
	if target == "" {
		target = dir + ref.Source
	} else if !filepath.IsAbs(target) {
		target = dir + target
	}
	hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeBind, Source: def.File, Target: target, ReadOnly: true})
	return nil
}

// networks is the endpoint of each project network the service joins, with docker compose's
// aliases (service name, container name, then the file's), and the network mode: the
// highest-priority network, or network_mode as given (service:x becomes container:<x's first
// container>).
func networks(p *types.Project, s types.ServiceConfig, name string) (*network.NetworkingConfig, string, error) {
	if s.NetworkMode != "" {
		if svc, ok := strings.CutPrefix(s.NetworkMode, "service:"); ok {
			dep, err := p.GetService(svc)
			if err != nil {
				return nil, "", fmt.Errorf("service %q: network_mode: %w", s.Name, err)
			}
			return nil, "container:" + ContainerName(p.Name, dep, 1), nil
		}
		return nil, s.NetworkMode, nil
	}
	nc := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{}}
	mode := ""
	for _, key := range s.NetworksByPriority() {
		def, ok := p.Networks[key]
		if !ok {
			return nil, "", fmt.Errorf("service %q refers to undefined network %s", s.Name, key)
		}
		ep := &network.EndpointSettings{Aliases: []string{s.Name, name}}
		if c := s.Networks[key]; c != nil {
			ep.Aliases = append(ep.Aliases, c.Aliases...)
			ep.GwPriority = c.GatewayPriority
			if c.Ipv4Address != "" {
				ip, err := netip.ParseAddr(c.Ipv4Address)
				if err != nil {
					return nil, "", fmt.Errorf("service %q: networks.%s.ipv4_address: invalid IP %q", s.Name, key, c.Ipv4Address)
				}
				ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ip}
			}
		}
		nc.EndpointsConfig[def.Name] = ep
		if mode == "" {
			mode = def.Name
		}
	}
	return nc, mode, nil
}
