// Package network gives containers their network stacks: the predefined bridge, host and none
// networks and user-defined bridge networks, each a Linux bridge with an address pool (IPAM),
// masquerading NAT and isolation rules in berth's own nftables table, an embedded DNS server on
// the gateway address of user-defined networks, and port publishing by kernel NAT (no process
// per port). Network records persist in the metadata store; endpoints live as long as a
// container runs and are rebuilt from the container records when berthd starts.
package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	gonet "net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/metadata"
)

const (
	bucket = "networks"
	// DefaultBridge is the usual bridge interface of the predefined "bridge" network.
	DefaultBridge = "berth0"
	bridgeNameOpt = "com.docker.network.bridge.name"
)

// record is one network as stored.
type record struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Driver   string            `json:"driver"` // bridge, host or null
	Created  time.Time         `json:"created"`
	Internal bool              `json:"internal,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Options  map[string]string `json:"options,omitempty"`
	Subnet   netip.Prefix      `json:"subnet,omitzero"`
	Gateway  netip.Addr        `json:"gateway,omitzero"`
	IPRange  netip.Prefix      `json:"ip_range,omitzero"`
	Bridge   string            `json:"bridge,omitempty"`
	// UserSubnet records whether the subnet was asked for (docker shows only those in IPAM.Config
	// as given, but always shows the subnet in use).
	UserSubnet bool `json:"user_subnet,omitempty"`
}

// net is a record with its live state.
type net struct {
	record
	pool *Pool
	eps  map[string]*Endpoint // by container ID
	dns  *dnsServer
}

// predefined reports the networks docker creates itself (not removable, "builtin").
func (n *net) predefined() bool {
	return n.Name == network.NetworkBridge || n.Name == network.NetworkHost || n.Name == network.NetworkNone
}

// userDefined reports a network whose containers find each other by name.
func (n *net) userDefined() bool { return n.Driver == "bridge" && n.Name != network.NetworkBridge }

// Config is what the service needs from the daemon.
type Config struct {
	DB       *metadata.DB
	StateDir string         // network namespaces of containers: StateDir/netns/<id>
	Pools    []netip.Prefix // candidates for networks without --subnet (DefaultPools when empty)
	// Bridge is the default network's interface (DefaultBridge when empty). Daemons that share a
	// host (tests) give each its own; it also names the daemon's nftables table.
	Bridge string
	Log    *slog.Logger
}

// Service manages networks and container endpoints.
type Service struct {
	cfg    Config
	log    *slog.Logger
	fw     *firewall
	hostfw *hostForward

	mu   sync.Mutex
	nets map[string]*net // by ID
	// sandboxes are the network namespaces of running containers, by container ID.
	sandboxes map[string]*Sandbox
	ports     *portReservations
}

// New loads the networks, creates the predefined ones on first start, and brings the kernel
// state (bridges, the firewall table) in line with the records.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if len(cfg.Pools) == 0 {
		cfg.Pools = DefaultPools()
	}
	if cfg.Bridge == "" {
		cfg.Bridge = DefaultBridge
	}
	if len(cfg.Bridge) > 15 {
		return nil, errdefs.InvalidArgumentf("bridge name %q is longer than 15 characters", cfg.Bridge)
	}
	if err := os.MkdirAll(filepath.Join(cfg.StateDir, "netns"), 0o755); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: cfg.Log, nets: map[string]*net{}, sandboxes: map[string]*Sandbox{}, ports: newPortReservations(), hostfw: newHostForward()}
	err := cfg.DB.View(func(tx *metadata.Tx) error {
		return tx.ForEach(bucket, func(_ string, raw []byte) error {
			var r record
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			s.nets[r.ID] = &net{record: r, eps: map[string]*Endpoint{}}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load networks: %w", err)
	}
	for _, p := range []struct{ name, driver string }{{network.NetworkBridge, "bridge"}, {network.NetworkHost, "host"}, {network.NetworkNone, "null"}} {
		if s.byName(p.name) != nil {
			continue
		}
		r := record{ID: newID(), Name: p.name, Driver: p.driver, Created: time.Now().UTC()}
		if p.driver == "bridge" {
			r.Bridge = cfg.Bridge
			r.Options = map[string]string{
				"com.docker.network.bridge.default_bridge": "true", "com.docker.network.bridge.enable_icc": "true",
				"com.docker.network.bridge.enable_ip_masquerade": "true", "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
				bridgeNameOpt: cfg.Bridge, "com.docker.network.driver.mtu": "1500",
			}
			subnet, err := s.freeSubnet(nil)
			if err != nil {
				return nil, err
			}
			r.Subnet = subnet
		}
		if err := s.put(&r); err != nil {
			return nil, err
		}
		s.nets[r.ID] = &net{record: r, eps: map[string]*Endpoint{}}
	}
	for _, n := range s.nets {
		if n.Driver != "bridge" {
			continue
		}
		pool, err := NewPool(n.Subnet, n.Gateway, n.IPRange)
		if err != nil {
			return nil, fmt.Errorf("network %s: %w", n.Name, err)
		}
		n.pool = pool
		n.Gateway = pool.Gateway
	}
	fw, err := newFirewall(tableFor(cfg.Bridge))
	if err != nil {
		return nil, fmt.Errorf("firewall: %w", err)
	}
	s.fw = fw
	if err := enableForwarding(); err != nil {
		s.log.Warn("could not enable IPv4 forwarding; containers will not reach other hosts", "err", err)
	}
	for _, n := range s.nets {
		if n.Driver == "bridge" {
			if err := s.bringUp(n); err != nil {
				return nil, fmt.Errorf("network %s: %w", n.Name, err)
			}
		}
	}
	if err := s.syncFirewall(); err != nil {
		return nil, err
	}
	return s, nil
}

// tableFor names the nftables table of the daemon whose default bridge is bridge.
func tableFor(bridge string) string {
	if bridge == DefaultBridge {
		return "berth"
	}
	return "berth_" + bridge
}

// bringUp creates the network's bridge (if missing) and, for user-defined networks, its DNS server.
func (s *Service) bringUp(n *net) error {
	if err := ensureBridge(n.Bridge, netip.PrefixFrom(n.Gateway, n.Subnet.Bits())); err != nil {
		return err
	}
	if err := s.hostfw.open(n.Bridge); err != nil {
		s.log.Warn("the host's FORWARD chain drops by policy and berth could not add its exceptions; containers on this network may not reach each other or other hosts",
			"network", n.Name, "err", err)
	}
	if n.userDefined() && n.dns == nil {
		d, err := startDNS(n.Gateway, s.resolver(n), s.log)
		if err != nil {
			return fmt.Errorf("embedded DNS on %s: %w", n.Gateway, err)
		}
		n.dns = d
	}
	return nil
}

// Close stops the DNS servers and releases port reservations. With containers running, bridges,
// rules and namespaces stay so that the containers keep their network across a restart;
// without, the bridges and the table go too (the next start makes them again), so a stopped
// berthd leaves nothing in the kernel.
func (s *Service) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.nets {
		if n.dns != nil {
			n.dns.close()
			n.dns = nil
		}
	}
	s.ports.closeAll()
	if len(s.sandboxes) > 0 {
		return
	}
	for _, n := range s.nets {
		if n.Driver == "bridge" {
			s.hostfw.close(n.Bridge)
			removeBridge(n.Bridge)
		}
	}
	if err := s.fw.remove(); err != nil {
		s.log.Warn("removing the firewall table", "err", err)
	}
}

func (s *Service) put(r *record) error {
	return s.cfg.DB.Update(func(tx *metadata.Tx) error { return tx.Put(bucket, r.ID, r) })
}

func (s *Service) drop(id string) error {
	return s.cfg.DB.Update(func(tx *metadata.Tx) error { return tx.Delete(bucket, id) })
}

func (s *Service) byName(name string) *net {
	for _, n := range s.nets {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// lookup finds a network by full ID, name, or unique ID prefix, as docker does.
func (s *Service) lookup(ref string) (*net, error) {
	if n, ok := s.nets[ref]; ok {
		return n, nil
	}
	if n := s.byName(ref); n != nil {
		return n, nil
	}
	var found *net
	for id, n := range s.nets {
		if strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, errdefs.InvalidArgumentf("network %s is ambiguous (%d matches found based on ID prefix)", ref, 2)
			}
			found = n
		}
	}
	if found == nil {
		return nil, errdefs.NotFoundf("network %s not found", ref)
	}
	return found, nil
}

var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Create makes a user-defined bridge network.
func (s *Service) Create(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	if req.Name == "" || !validName.MatchString(req.Name) {
		return network.CreateResponse{}, errdefs.InvalidArgumentf("invalid network name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit", req.Name)
	}
	driver := req.Driver
	if driver == "" {
		driver = "bridge"
	}
	if driver != "bridge" {
		if driver == "host" || driver == "null" {
			return network.CreateResponse{}, errdefs.Forbiddenf("only one instance of %q network is allowed", driver)
		}
		return network.CreateResponse{}, errdefs.NotFoundf("could not find plugin %s in v1 plugin registry: plugin not found", driver)
	}
	if req.Scope != "" && req.Scope != "local" {
		return network.CreateResponse{}, errdefs.InvalidArgumentf("scope %q is not supported: berth has local networks only", req.Scope)
	}
	if req.EnableIPv6 != nil && *req.EnableIPv6 {
		return network.CreateResponse{}, errdefs.NotImplementedf("IPv6 networks are not supported yet")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName(req.Name) != nil {
		return network.CreateResponse{}, errdefs.Conflictf("network with name %s already exists", req.Name)
	}
	r := record{ID: newID(), Name: req.Name, Driver: driver, Created: time.Now().UTC(), Internal: req.Internal,
		Labels: req.Labels, Options: req.Options}
	if req.IPAM != nil && len(req.IPAM.Config) > 1 {
		return network.CreateResponse{}, errdefs.NotImplementedf("more than one subnet per network is not supported yet")
	}
	if req.IPAM != nil && len(req.IPAM.Config) == 1 {
		c := req.IPAM.Config[0]
		if !c.Subnet.IsValid() && (c.Gateway.IsValid() || c.IPRange.IsValid()) {
			return network.CreateResponse{}, errdefs.InvalidArgumentf("a gateway or an IP range needs a subnet (--subnet)")
		}
		r.Subnet, r.Gateway, r.IPRange, r.UserSubnet = c.Subnet.Masked(), c.Gateway, c.IPRange, c.Subnet.IsValid()
	}
	if r.UserSubnet {
		for _, o := range s.nets {
			if o.Subnet.IsValid() && o.Subnet.Overlaps(r.Subnet) {
				return network.CreateResponse{}, overlapError(r.Subnet, o.Subnet.String())
			}
		}
	} else {
		subnet, err := s.freeSubnet(nil)
		if err != nil {
			return network.CreateResponse{}, err
		}
		r.Subnet = subnet
	}
	pool, err := NewPool(r.Subnet, r.Gateway, r.IPRange)
	if err != nil {
		return network.CreateResponse{}, err
	}
	r.Gateway = pool.Gateway
	r.Bridge = req.Options[bridgeNameOpt]
	if r.Bridge == "" {
		r.Bridge = "br-" + r.ID[:12]
	} else if len(r.Bridge) > 15 {
		return network.CreateResponse{}, errdefs.InvalidArgumentf("bridge name %q is longer than 15 characters", r.Bridge)
	}
	for _, o := range s.nets {
		if o.Bridge == r.Bridge {
			return network.CreateResponse{}, errdefs.Conflictf("bridge name %s is already used by network %s", r.Bridge, o.Name)
		}
	}
	n := &net{record: r, pool: pool, eps: map[string]*Endpoint{}}
	// The record comes before the bridge and goes after it (Remove): a crash in between leaves
	// a network that the next start brings up, or that rm removes again, never a bridge that
	// no record knows.
	if err := s.put(&r); err != nil {
		return network.CreateResponse{}, err
	}
	if err := s.bringUp(n); err != nil {
		removeBridge(r.Bridge)
		s.drop(r.ID)
		return network.CreateResponse{}, err
	}
	s.nets[r.ID] = n
	if err := s.syncFirewall(); err != nil {
		s.teardown(n)
		s.drop(r.ID)
		return network.CreateResponse{}, err
	}
	return network.CreateResponse{ID: r.ID}, nil
}

// teardown removes a network's kernel state and forgets it (caller holds mu).
func (s *Service) teardown(n *net) {
	if n.dns != nil {
		n.dns.close()
	}
	delete(s.nets, n.ID)
	s.syncFirewall()
	s.hostfw.close(n.Bridge)
	removeBridge(n.Bridge)
}

// freeSubnet picks a default pool that overlaps no network and no host route.
func (s *Service) freeSubnet(extra []netip.Prefix) (netip.Prefix, error) {
	taken := append(hostRoutes(), extra...)
	for _, n := range s.nets {
		if n.Subnet.IsValid() {
			taken = append(taken, n.Subnet)
		}
	}
	return PickSubnet(s.cfg.Pools, taken)
}

// Remove deletes a user-defined network that no container uses.
func (s *Service) Remove(ctx context.Context, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.lookup(ref)
	if err != nil {
		return err
	}
	if n.predefined() {
		return errdefs.Forbiddenf("%s is a pre-defined network and cannot be removed", n.Name)
	}
	if len(n.eps) > 0 {
		return errdefs.Forbiddenf("error while removing network: network %s has active endpoints (%s)", n.Name, strings.Join(n.endpointNames(), ", "))
	}
	s.teardown(n)
	return s.drop(n.ID)
}

func (n *net) endpointNames() []string {
	var out []string
	for _, ep := range n.eps {
		out = append(out, "name:"+strings.TrimPrefix(ep.Name, "/")+" id:"+ep.ContainerID[:12])
	}
	sort.Strings(out)
	return out
}

// Prune removes unused user-defined networks matching the filters (label, label!, until).
func (s *Service) Prune(ctx context.Context, f filters.Args) ([]string, error) {
	if err := f.Validate("label", "label!", "until"); err != nil {
		return nil, err
	}
	var until time.Time
	if v := f.Get("until"); len(v) > 0 {
		t, err := filters.ParseTimestamp(v[0], time.Now())
		if err != nil {
			return nil, errdefs.InvalidArgumentf("invalid until filter: %v", err)
		}
		until = t
	}
	s.mu.Lock()
	var victims []*net
	for _, n := range s.nets {
		if n.predefined() || len(n.eps) > 0 || !f.MatchLabels("label", n.Labels) || !pruneLabelNot(f, n.Labels) {
			continue
		}
		if !until.IsZero() && !n.Created.Before(until) {
			continue
		}
		victims = append(victims, n)
	}
	s.mu.Unlock()
	var deleted []string
	for _, n := range victims {
		if err := s.Remove(ctx, n.ID); err == nil {
			deleted = append(deleted, n.Name)
		}
	}
	sort.Strings(deleted)
	return deleted, nil
}

// pruneLabelNot applies label! filters: a network carrying any of them is kept.
func pruneLabelNot(f filters.Args, labels map[string]string) bool {
	for _, v := range f.Get("label!") {
		k, val, hasVal := strings.Cut(v, "=")
		if got, ok := labels[k]; ok && (!hasVal || got == val) {
			return false
		}
	}
	return true
}

// List returns the networks matching the filters, sorted by name.
func (s *Service) List(ctx context.Context, f filters.Args) ([]network.Summary, error) {
	if err := f.Validate("driver", "id", "label", "name", "scope", "type", "dangling"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []network.Summary
	for _, n := range s.nets {
		if !n.matches(f) {
			continue
		}
		out = append(out, network.Summary{Network: n.view()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (n *net) matches(f filters.Args) bool {
	anyOf := func(key string, ok func(string) bool) bool {
		vals := f.Get(key)
		return len(vals) == 0 || slices.ContainsFunc(vals, ok)
	}
	return anyOf("driver", func(v string) bool { return v == n.Driver }) &&
		anyOf("id", func(v string) bool { return strings.HasPrefix(n.ID, v) }) &&
		anyOf("name", func(v string) bool { return strings.Contains(n.Name, v) }) &&
		anyOf("scope", func(v string) bool { return v == "local" }) &&
		anyOf("type", func(v string) bool { return (v == "builtin") == n.predefined() }) &&
		anyOf("dangling", func(v string) bool { return (v == "true" || v == "1") == (len(n.eps) == 0 && !n.predefined()) }) &&
		f.MatchLabels("label", n.Labels)
}

// Inspect returns a network with its endpoints.
func (s *Service) Inspect(ctx context.Context, ref string) (network.Inspect, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.lookup(ref)
	if err != nil {
		return network.Inspect{}, err
	}
	out := network.Inspect{Network: n.view(), Containers: map[string]network.EndpointResource{}}
	for id, ep := range n.eps {
		mac, _ := gonet.ParseMAC(ep.MAC)
		out.Containers[id] = network.EndpointResource{
			Name: strings.TrimPrefix(ep.Name, "/"), EndpointID: ep.EndpointID, MacAddress: network.HardwareAddr(mac),
			IPv4Address: netip.PrefixFrom(ep.IP, n.Subnet.Bits()),
		}
	}
	return out, nil
}

func (n *net) view() network.Network {
	v := network.Network{
		Name: n.Name, ID: n.ID, Created: n.Created, Scope: "local", Driver: n.Driver, EnableIPv4: n.Driver == "bridge",
		Internal: n.Internal, Labels: n.Labels, Options: n.Options,
		IPAM: network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{}},
	}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	if v.Options == nil {
		v.Options = map[string]string{}
	}
	if n.Subnet.IsValid() {
		v.IPAM.Config = []network.IPAMConfig{{Subnet: n.Subnet, Gateway: n.Gateway, IPRange: n.IPRange}}
	}
	return v
}

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
