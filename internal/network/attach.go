package network

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/errdefs"
)

// EndpointRequest asks for a container's endpoint on one network.
type EndpointRequest struct {
	Network string     // name or ID
	IP      netip.Addr // --ip; allocated when unset
	Aliases []string
}

// AttachRequest is a container about to start on bridge networks.
type AttachRequest struct {
	ContainerID string
	Name        string // with or without the leading slash
	Networks    []EndpointRequest
	Ports       network.PortMap
	Exposed     network.PortSet
	PublishAll  bool
}

// Endpoint is a container's interface on one network; the container record keeps it while the
// container runs so that berthd can re-adopt it after a restart.
type Endpoint struct {
	ContainerID string     `json:"container_id"`
	Name        string     `json:"name"`
	NetworkID   string     `json:"network_id"`
	NetworkName string     `json:"network_name"`
	EndpointID  string     `json:"endpoint_id"`
	IfName      string     `json:"if_name"`
	HostIf      string     `json:"host_if"`
	IP          netip.Addr `json:"ip"`
	PrefixLen   int        `json:"prefix_len"`
	Gateway     netip.Addr `json:"gateway"`
	MAC         string     `json:"mac"`
	Aliases     []string   `json:"aliases,omitempty"`
	Static      bool       `json:"static,omitempty"` // the IP was asked for (--ip), so the next run reuses it
}

// names are what the network's DNS answers for the endpoint: the container name, its short ID
// and the aliases.
func (ep *Endpoint) names() []string {
	out := []string{strings.TrimPrefix(ep.Name, "/"), ep.ContainerID[:12]}
	return append(out, ep.Aliases...)
}

// Sandbox is a running container's network stack.
type Sandbox struct {
	Path      string          `json:"path"` // the pinned network namespace
	Endpoints []*Endpoint     `json:"endpoints"`
	Ports     network.PortMap `json:"ports,omitempty"`
	fw        []fwPort
}

// Nameservers are what the container's resolv.conf should list: the embedded DNS of its first
// user-defined network, else nothing (the caller copies the host's).
func (s *Service) Nameservers(sb *Sandbox) []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ep := range sb.Endpoints {
		if n := s.nets[ep.NetworkID]; n != nil && n.userDefined() {
			return []netip.Addr{n.Gateway}
		}
	}
	return nil
}

// Resolve checks that a network exists and tells its ID, name and driver (bridge, host, null).
func (s *Service) Resolve(ref string) (id, name, driver string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.lookup(ref)
	if err != nil {
		return "", "", "", err
	}
	return n.ID, n.Name, n.Driver, nil
}

func (s *Service) netnsPath(ctrID string) string {
	return filepath.Join(s.cfg.StateDir, "netns", ctrID)
}

// Attach gives a starting container a network namespace with one endpoint per network and
// publishes its ports. On error nothing is left behind.
func (s *Service) Attach(req AttachRequest) (*Sandbox, error) {
	path := s.netnsPath(req.ContainerID)
	removeNetNS(path) // a previous run's, if berthd died before cleaning it
	if err := createNetNS(path); err != nil {
		return nil, err
	}
	sb := &Sandbox{Path: path}
	fail := func(err error) (*Sandbox, error) {
		s.Detach(req.ContainerID, sb)
		return nil, err
	}
	for i, r := range req.Networks {
		if _, err := s.connect(sb, req.ContainerID, req.Name, r, i == 0); err != nil {
			return fail(err)
		}
	}
	if len(req.Networks) == 0 {
		if err := loopbackUp(path); err != nil {
			return fail(err)
		}
	}
	if len(req.Ports) > 0 || req.PublishAll {
		if len(sb.Endpoints) == 0 {
			return fail(errdefs.InvalidArgumentf("published ports need a bridge network"))
		}
		rules, bound, err := s.publish(req.ContainerID, sb.Endpoints[0].IP, req.Ports, req.Exposed, req.PublishAll)
		if err != nil {
			return fail(err)
		}
		s.mu.Lock()
		sb.fw, sb.Ports = rules, bound
		s.sandboxes[req.ContainerID] = sb
		err = s.syncFirewall()
		s.mu.Unlock()
		if err != nil {
			return fail(err)
		}
	}
	s.mu.Lock()
	s.sandboxes[req.ContainerID] = sb
	s.mu.Unlock()
	return sb, nil
}

// Connect adds an endpoint on another network to a running container.
func (s *Service) Connect(sb *Sandbox, ctrID, name string, r EndpointRequest) (*Endpoint, error) {
	return s.connect(sb, ctrID, name, r, false)
}

func (s *Service) connect(sb *Sandbox, ctrID, name string, r EndpointRequest, primary bool) (*Endpoint, error) {
	s.mu.Lock()
	n, err := s.lookup(r.Network)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if n.Driver != "bridge" {
		s.mu.Unlock()
		return nil, errdefs.Forbiddenf("container cannot be connected to network %s: it is a %s network", n.Name, n.Driver)
	}
	if _, dup := n.eps[ctrID]; dup {
		s.mu.Unlock()
		return nil, errdefs.Forbiddenf("endpoint with name %s already exists in network %s", strings.TrimPrefix(name, "/"), n.Name)
	}
	if r.IP.IsValid() && !n.UserSubnet {
		s.mu.Unlock()
		return nil, errdefs.InvalidArgumentf("user specified IP address is supported only when connecting to networks with user configured subnets")
	}
	var ip netip.Addr
	if r.IP.IsValid() {
		err = n.pool.Claim(r.IP)
		ip = r.IP
	} else {
		ip, err = n.pool.Allocate()
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	epID := newID()
	ep := &Endpoint{
		ContainerID: ctrID, Name: name, NetworkID: n.ID, NetworkName: n.Name, EndpointID: epID,
		IfName: fmt.Sprintf("eth%d", len(sb.Endpoints)), HostIf: vethName(epID),
		IP: ip, PrefixLen: n.Subnet.Bits(), Gateway: n.Gateway, MAC: macFor(ip).String(), Aliases: r.Aliases,
		Static: r.IP.IsValid(),
	}
	bridge, internal := n.Bridge, n.Internal
	s.mu.Unlock()

	link := endpointLink{hostName: ep.HostIf, ifName: ep.IfName, mac: macFor(ip), addr: netip.PrefixFrom(ip, ep.PrefixLen)}
	if primary && !internal { // an internal network has no way out, not even a route
		link.gateway = n.Gateway
	}
	if err := addEndpoint(sb.Path, bridge, link); err != nil {
		s.mu.Lock()
		n.pool.Release(ip)
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Lock()
	n.eps[ctrID] = ep
	s.mu.Unlock()
	sb.Endpoints = append(sb.Endpoints, ep)
	return ep, nil
}

// Disconnect removes a running container's endpoint on one network.
func (s *Service) Disconnect(sb *Sandbox, ctrID, netRef string) error {
	s.mu.Lock()
	n, err := s.lookup(netRef)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	i := slices.IndexFunc(sb.Endpoints, func(ep *Endpoint) bool { return ep.NetworkID == n.ID })
	if i < 0 {
		s.mu.Unlock()
		return errdefs.Forbiddenf("container %s is not connected to network %s", ctrID[:12], n.Name)
	}
	ep := sb.Endpoints[i]
	s.releaseLocked(ep)
	s.mu.Unlock()
	removeEndpoint(ep.HostIf)
	sb.Endpoints = slices.Delete(sb.Endpoints, i, i+1)
	return nil
}

func (s *Service) releaseLocked(ep *Endpoint) {
	if n := s.nets[ep.NetworkID]; n != nil {
		delete(n.eps, ep.ContainerID)
		if n.pool != nil {
			n.pool.Release(ep.IP)
		}
	}
}

// Detach tears a stopped container's network down: endpoints, leases, published ports and
// its namespace.
func (s *Service) Detach(ctrID string, sb *Sandbox) {
	s.ports.release(ctrID)
	s.mu.Lock()
	delete(s.sandboxes, ctrID)
	hadPorts := sb != nil && len(sb.fw) > 0
	if sb != nil {
		for _, ep := range sb.Endpoints {
			s.releaseLocked(ep)
		}
	}
	if hadPorts {
		if err := s.syncFirewall(); err != nil {
			s.log.Warn("removing published ports", "container", ctrID, "err", err)
		}
	}
	s.mu.Unlock()
	// Deleting a veth waits for the kernel's RCU grace periods (30 ms, see BenchmarkEndpoint),
	// while unpinning the namespace lets the kernel destroy it and both veth ends in the
	// background once nothing uses it. Only a static address is worth the wait: the next run
	// takes the same IP and MAC, which the old namespace, still alive while the kernel is slow
	// or a host process holds it, would answer for as well.
	if sb != nil {
		for _, ep := range sb.Endpoints {
			if ep.Static {
				removeEndpoint(ep.HostIf)
			}
		}
	}
	removeNetNS(s.netnsPath(ctrID))
}

// RemoveOrphans removes the network namespaces no restored container claims: a start or a stop
// that berthd did not finish before it was killed leaves one pinned, with its veth on a bridge.
// It runs once the containers are restored and before any request is served.
func (s *Service) RemoveOrphans() {
	dir := filepath.Join(s.cfg.StateDir, "netns")
	entries, _ := os.ReadDir(dir)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		if _, claimed := s.sandboxes[e.Name()]; !claimed {
			s.log.Info("removing the network namespace of a run berthd did not finish", "container", e.Name())
			removeNetNS(filepath.Join(dir, e.Name()))
		}
	}
}

// Restore re-adopts the network of a container that kept running while berthd was down:
// leases, DNS names and port reservations come back; the kernel state is already there.
func (s *Service) Restore(ctrID string, sb *Sandbox) error {
	s.mu.Lock()
	for _, ep := range sb.Endpoints {
		n := s.nets[ep.NetworkID]
		if n == nil || n.pool == nil {
			continue
		}
		n.pool.Claim(ep.IP)
		n.eps[ctrID] = ep
	}
	s.sandboxes[ctrID] = sb
	s.mu.Unlock()
	if len(sb.Ports) == 0 || len(sb.Endpoints) == 0 {
		return nil
	}
	rules, bound, err := s.publish(ctrID, sb.Endpoints[0].IP, sb.Ports, nil, false)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sb.fw, sb.Ports = rules, bound
	return s.syncFirewall()
}

// syncFirewall rewrites berth's table from the networks and the published ports (caller holds mu).
func (s *Service) syncFirewall() error {
	var nets []fwNet
	for _, n := range s.nets {
		if n.Driver == "bridge" {
			nets = append(nets, fwNet{bridge: n.Bridge, subnet: n.Subnet, internal: n.Internal})
		}
	}
	slices.SortFunc(nets, func(a, b fwNet) int { return strings.Compare(a.bridge, b.bridge) })
	var ports []fwPort
	for _, sb := range s.sandboxes {
		ports = append(ports, sb.fw...)
	}
	return s.fw.sync(nets, ports)
}

// resolver answers DNS names on network n from its endpoints.
func (s *Service) resolver(n *net) lookupFunc {
	return func(name string) []netip.Addr {
		s.mu.Lock()
		defer s.mu.Unlock()
		var out []netip.Addr
		for _, ep := range n.eps {
			if slices.ContainsFunc(ep.names(), func(v string) bool { return strings.EqualFold(v, name) }) {
				out = append(out, ep.IP)
			}
		}
		return out
	}
}
