package container

import (
	"context"
	gonet "net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/errdefs"
	netsvc "github.com/berth-project/berth/internal/network"
)

// Networks is what containers need from the network service.
type Networks interface {
	Resolve(ref string) (id, name, driver string, err error)
	Attach(req netsvc.AttachRequest) (*netsvc.Sandbox, error)
	Detach(ctrID string, sb *netsvc.Sandbox)
	Connect(sb *netsvc.Sandbox, ctrID, name string, r netsvc.EndpointRequest) (*netsvc.Endpoint, error)
	Disconnect(sb *netsvc.Sandbox, ctrID, netRef string) error
	Restore(ctrID string, sb *netsvc.Sandbox) error
	Nameservers(sb *netsvc.Sandbox) []netip.Addr
}

// SetNetworks wires the network service in; without it containers get a private namespace
// with loopback only.
func (s *Service) SetNetworks(n Networks) { s.nets = n }

// setupNetworking resolves the network mode at create, as docker does: "default" is the
// bridge, named networks must exist, and the requested endpoints are kept for every start.
func (s *Service) setupNetworking(c *Container, nc *network.NetworkingConfig) error {
	hc := c.HostConfig
	if hc.NetworkMode == "" || hc.NetworkMode == network.NetworkDefault {
		hc.NetworkMode = network.NetworkBridge
	}
	mode := hc.NetworkMode
	switch {
	case mode.IsHost(), mode.IsNone():
		if len(hc.PortBindings) > 0 || hc.PublishAllPorts {
			// docker drops them with a warning for host; none cannot have them at all.
			if mode.IsNone() {
				return errdefs.InvalidArgumentf("conflicting options: port publishing and the container type network mode")
			}
		}
		return nil
	case mode.IsContainer():
		// The other container is looked up at start, as docker does: a 404 here would make the
		// docker CLI take it for a missing image and try to pull one.
		if len(hc.PortBindings) > 0 || hc.PublishAllPorts {
			return errdefs.InvalidArgumentf("conflicting options: port publishing and the container type network mode")
		}
		return nil
	}
	if s.nets == nil {
		return nil
	}
	c.Endpoints = map[string]*network.EndpointSettings{}
	if nc != nil {
		for name, ep := range nc.EndpointsConfig {
			if name == network.NetworkDefault {
				name = network.NetworkBridge
			}
			c.Endpoints[name] = ep
		}
	}
	if _, ok := c.Endpoints[string(mode)]; !ok {
		c.Endpoints[string(mode)] = &network.EndpointSettings{}
	}
	for name, ep := range c.Endpoints {
		id, canonical, driver, err := s.nets.Resolve(name)
		if err != nil {
			return err
		}
		if driver != "bridge" {
			return errdefs.InvalidArgumentf("container cannot be connected to the %s network together with others", canonical)
		}
		if ep == nil {
			ep = &network.EndpointSettings{}
		}
		ep.NetworkID = id
		if canonical != name {
			delete(c.Endpoints, name)
		}
		c.Endpoints[canonical] = ep
		if canonical == network.NetworkBridge && (len(ep.Aliases) > 0 || (ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address.IsValid())) {
			return errdefs.InvalidArgumentf("network-scoped aliases and user specified IP addresses are only supported for user defined networks")
		}
	}
	if m := string(mode); m != network.NetworkBridge {
		if _, _, _, err := s.nets.Resolve(m); err != nil {
			return err
		}
	}
	return nil
}

// attachNetwork gives a starting container its network namespace; it returns the path for the
// OCI spec ("" lets the runtime make a bare one, "host" shares the host's).
func (s *Service) attachNetwork(c *Container) (string, error) {
	mode := c.HostConfig.NetworkMode
	switch {
	case mode.IsHost():
		return "host", nil
	case mode.IsContainer():
		other, err := s.Get(mode.ConnectedContainer())
		if err != nil {
			return "", err
		}
		other.mu.Lock()
		defer other.mu.Unlock()
		if !other.State.Running {
			return "", errdefs.Conflictf("cannot join network namespace of a non running container: container %s is exited", strings.TrimPrefix(other.Name, "/"))
		}
		if other.Sandbox != nil {
			return other.Sandbox.Path, nil
		}
		return "/proc/" + strconv.Itoa(other.State.Pid) + "/ns/net", nil
	}
	if s.nets == nil {
		return "", nil
	}
	req := netsvc.AttachRequest{ContainerID: c.ID, Name: c.Name, Ports: c.HostConfig.PortBindings,
		Exposed: c.Config.ExposedPorts, PublishAll: c.HostConfig.PublishAllPorts}
	if !mode.IsNone() {
		for _, name := range endpointOrder(string(mode), c.Endpoints) {
			ep := c.Endpoints[name]
			r := netsvc.EndpointRequest{Network: ep.NetworkID, Aliases: ep.Aliases}
			if r.Network == "" {
				r.Network = name
			}
			if ep.IPAMConfig != nil {
				r.IP = ep.IPAMConfig.IPv4Address
			}
			req.Networks = append(req.Networks, r)
		}
	}
	sb, err := s.nets.Attach(req)
	if err != nil {
		return "", err
	}
	c.Sandbox = sb
	return sb.Path, nil
}

// endpointOrder puts the network mode's own network first (it gets the default route), the
// others by name.
func endpointOrder(mode string, eps map[string]*network.EndpointSettings) []string {
	var rest []string
	for name := range eps {
		if name != mode {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	if _, ok := eps[mode]; ok {
		return append([]string{mode}, rest...)
	}
	return rest
}

// detachNetwork releases a stopped container's network (caller holds c.mu).
func (s *Service) detachNetwork(c *Container) {
	if s.nets != nil && c.Sandbox != nil {
		s.nets.Detach(c.ID, c.Sandbox)
	}
	c.Sandbox = nil
}

// ConnectNetwork connects a container to a network: at once when it runs, at its next start
// otherwise.
func (s *Service) ConnectNetwork(ctx context.Context, netRef, ctrRef string, ep *network.EndpointSettings) error {
	return s.changeEndpoint(netRef, ctrRef, "connect", func(c *Container, id, name string) error {
		if _, dup := c.Endpoints[name]; dup {
			return errdefs.Forbiddenf("endpoint with name %s already exists in network %s", strings.TrimPrefix(c.Name, "/"), name)
		}
		if ep == nil {
			ep = &network.EndpointSettings{}
		}
		if name == network.NetworkBridge && len(ep.Aliases) > 0 {
			return errdefs.InvalidArgumentf("network-scoped alias is supported only for containers in user defined networks")
		}
		ep.NetworkID = id
		if c.State.Running && c.Sandbox != nil {
			r := netsvc.EndpointRequest{Network: id, Aliases: ep.Aliases}
			if ep.IPAMConfig != nil {
				r.IP = ep.IPAMConfig.IPv4Address
			}
			if _, err := s.nets.Connect(c.Sandbox, c.ID, c.Name, r); err != nil {
				return err
			}
		}
		if c.Endpoints == nil {
			c.Endpoints = map[string]*network.EndpointSettings{}
		}
		c.Endpoints[name] = ep
		return nil
	})
}

// DisconnectNetwork removes a container from a network.
func (s *Service) DisconnectNetwork(ctx context.Context, netRef, ctrRef string, force bool) error {
	return s.changeEndpoint(netRef, ctrRef, "disconnect", func(c *Container, id, name string) error {
		if _, ok := c.Endpoints[name]; !ok {
			return errdefs.Forbiddenf("container %s is not connected to network %s", c.ID[:12], name)
		}
		if c.State.Running && c.Sandbox != nil {
			if err := s.nets.Disconnect(c.Sandbox, c.ID, id); err != nil && !force {
				return err
			}
		}
		delete(c.Endpoints, name)
		return nil
	})
}

// changeEndpoint runs change on a bridge-mode container and one of its bridge networks, with the
// container locked, then records the change and emits the network event.
func (s *Service) changeEndpoint(netRef, ctrRef, action string, change func(c *Container, id, name string) error) error {
	if s.nets == nil {
		return errdefs.NotImplementedf("networking is not available")
	}
	c, err := s.Get(ctrRef)
	if err != nil {
		return err
	}
	id, name, driver, err := s.nets.Resolve(netRef)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	mode := c.HostConfig.NetworkMode
	if mode.IsHost() || mode.IsNone() || mode.IsContainer() || driver != "bridge" {
		return errdefs.Forbiddenf("container cannot be disconnected from host network or connected to host network")
	}
	if err := change(c, id, name); err != nil {
		return err
	}
	s.events.Emit("network", action, id, map[string]string{"container": c.ID, "name": name, "type": driver})
	return c.save(s.dir(c.ID))
}

// networkSettings is inspect's view: the configured endpoints with the live addresses.
func (c *Container) networkSettings() *container.NetworkSettings {
	ns := &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{}, Ports: network.PortMap{}}
	for p := range c.Config.ExposedPorts {
		ns.Ports[p] = nil
	}
	for p := range c.HostConfig.PortBindings {
		ns.Ports[p] = nil
	}
	mode := c.HostConfig.NetworkMode
	if mode.IsHost() || mode.IsNone() {
		ns.Networks[string(mode)] = &network.EndpointSettings{}
	}
	for name, ep := range c.Endpoints {
		cp := ep.Copy()
		if cp == nil {
			cp = &network.EndpointSettings{}
		}
		ns.Networks[name] = cp
	}
	if c.Sandbox == nil {
		if !c.State.Running {
			ns.Ports = network.PortMap{}
		}
		return ns
	}
	ns.SandboxKey = c.Sandbox.Path
	ns.SandboxID = c.ID
	for p, b := range c.Sandbox.Ports {
		ns.Ports[p] = b
	}
	for _, ep := range c.Sandbox.Endpoints {
		s, ok := ns.Networks[ep.NetworkName]
		if !ok {
			continue
		}
		s.NetworkID, s.EndpointID, s.Gateway, s.IPAddress, s.IPPrefixLen = ep.NetworkID, ep.EndpointID, ep.Gateway, ep.IP, ep.PrefixLen
		if mac, err := gonet.ParseMAC(ep.MAC); err == nil {
			s.MacAddress = network.HardwareAddr(mac)
		}
		s.DNSNames = nil
		if ep.NetworkName != network.NetworkBridge {
			s.DNSNames = append([]string{strings.TrimPrefix(c.Name, "/"), c.ID[:12]}, ep.Aliases...)
		}
	}
	return ns
}

// portSummary is ps's PORTS column data.
func (c *Container) portSummary() []container.PortSummary {
	out := []container.PortSummary{}
	if c.Sandbox != nil {
		for p, bs := range c.Sandbox.Ports {
			for _, b := range bs {
				hp, _ := strconv.ParseUint(b.HostPort, 10, 16)
				out = append(out, container.PortSummary{IP: b.HostIP, PrivatePort: p.Num(), PublicPort: uint16(hp), Type: string(p.Proto())})
			}
		}
	}
	for p := range c.Config.ExposedPorts {
		if c.Sandbox == nil || len(c.Sandbox.Ports[p]) == 0 {
			out = append(out, container.PortSummary{PrivatePort: p.Num(), Type: string(p.Proto())})
		}
	}
	slices.SortFunc(out, func(a, b container.PortSummary) int { return int(a.PrivatePort) - int(b.PrivatePort) })
	return out
}

// primaryIP is the address other names in /etc/hosts point at.
func (c *Container) primaryIP() netip.Addr {
	if c.Sandbox != nil && len(c.Sandbox.Endpoints) > 0 {
		return c.Sandbox.Endpoints[0].IP
	}
	return netip.Addr{}
}
