package network

import (
	"fmt"
	"io"
	gonet "net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/network"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

// portReservations holds one socket per published host port. The kernel NAT rules carry the
// traffic, so the sockets never see a packet; they only keep the port from being handed to
// another program (and make a clash with one a clear error at start instead of silence).
type portReservations struct {
	mu    sync.Mutex
	byCtr map[string][]io.Closer
}

func newPortReservations() *portReservations {
	return &portReservations{byCtr: map[string][]io.Closer{}}
}

// reserve binds proto on hostIP at the port spec: "" for any free port, "N", or a range "A-B"
// tried in order. It returns the port bound.
func (r *portReservations) reserve(ctrID, proto string, hostIP netip.Addr, spec string) (uint16, error) {
	lo, hi, err := parseHostPorts(spec)
	if err != nil {
		return 0, err
	}
	ip := "0.0.0.0"
	if hostIP.IsValid() {
		ip = hostIP.String()
	}
	var lastErr error
	for p := int(lo); p <= int(hi); p++ {
		addr := gonet.JoinHostPort(ip, strconv.Itoa(p))
		var c io.Closer
		var bound int
		if proto == "udp" {
			pc, err := gonet.ListenPacket("udp4", addr)
			if err != nil {
				lastErr = err
				continue
			}
			c, bound = pc, pc.LocalAddr().(*gonet.UDPAddr).Port
		} else {
			l, err := gonet.Listen("tcp4", addr)
			if err != nil {
				lastErr = err
				continue
			}
			c, bound = l, l.Addr().(*gonet.TCPAddr).Port
		}
		r.mu.Lock()
		r.byCtr[ctrID] = append(r.byCtr[ctrID], c)
		r.mu.Unlock()
		return uint16(bound), nil
	}
	if lastErr != nil && strings.Contains(lastErr.Error(), "address already in use") {
		lastErr = unix.EADDRINUSE
	}
	return 0, lastErr
}

func (r *portReservations) release(ctrID string) {
	r.mu.Lock()
	cs := r.byCtr[ctrID]
	delete(r.byCtr, ctrID)
	r.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

func (r *portReservations) closeAll() {
	r.mu.Lock()
	ids := make([]string, 0, len(r.byCtr))
	for id := range r.byCtr {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	for _, id := range ids {
		r.release(id)
	}
}

// parseHostPorts reads a HostPort value: empty (any: port 0), a number, or a range.
func parseHostPorts(spec string) (uint16, uint16, error) {
	if spec == "" || spec == "0" {
		return 0, 0, nil
	}
	a, b, isRange := strings.Cut(spec, "-")
	lo, err := strconv.ParseUint(a, 10, 16)
	if err != nil {
		return 0, 0, errdefs.InvalidArgumentf("invalid host port %q", spec)
	}
	hi := lo
	if isRange {
		if hi, err = strconv.ParseUint(b, 10, 16); err != nil || hi < lo {
			return 0, 0, errdefs.InvalidArgumentf("invalid host port range %q", spec)
		}
	}
	return uint16(lo), uint16(hi), nil
}

// wantedPorts merges the explicit bindings with -P's EXPOSEd ports (random host ports), sorted
// so that allocation is deterministic.
func wantedPorts(bindings network.PortMap, exposed network.PortSet, publishAll bool) []network.Port {
	var ports []network.Port
	for p := range bindings {
		ports = append(ports, p)
	}
	if publishAll {
		for p := range exposed {
			if _, ok := bindings[p]; !ok {
				ports = append(ports, p)
			}
		}
	}
	slices.SortFunc(ports, func(a, b network.Port) int {
		if a.Num() != b.Num() {
			return int(a.Num()) - int(b.Num())
		}
		return strings.Compare(string(a.Proto()), string(b.Proto()))
	})
	return ports
}

// publish reserves the host side of every wanted port for a container at ctrIP and returns the
// NAT rules and the bindings as inspect shows them.
func (s *Service) publish(ctrID string, ctrIP netip.Addr, bindings network.PortMap, exposed network.PortSet, publishAll bool) ([]fwPort, network.PortMap, error) {
	var rules []fwPort
	out := network.PortMap{}
	for _, p := range wantedPorts(bindings, exposed, publishAll) {
		proto := string(p.Proto())
		if proto != "tcp" && proto != "udp" {
			return nil, nil, errdefs.InvalidArgumentf("publishing %s ports is not supported", proto)
		}
		want := bindings[p]
		if len(want) == 0 {
			want = []network.PortBinding{{}}
		}
		for _, b := range want {
			hostPort, err := s.ports.reserve(ctrID, proto, b.HostIP, b.HostPort)
			if err != nil {
				s.ports.release(ctrID)
				hostIP := "0.0.0.0"
				if b.HostIP.IsValid() {
					hostIP = b.HostIP.String()
				}
				return nil, nil, fmt.Errorf("failed to bind host port for %s:%s:%s:%d/%s: %v", hostIP, b.HostPort, ctrIP, p.Num(), proto, err)
			}
			nr := fwPort{proto: unix.IPPROTO_TCP, hostIP: b.HostIP, hostPort: hostPort, ctrIP: ctrIP, ctrPort: p.Num()}
			if proto == "udp" {
				nr.proto = unix.IPPROTO_UDP
			}
			rules = append(rules, nr)
			shown := b.HostIP
			if !shown.IsValid() {
				shown = netip.IPv4Unspecified()
			}
			out[p] = append(out[p], network.PortBinding{HostIP: shown, HostPort: strconv.Itoa(int(hostPort))})
		}
	}
	return rules, out, nil
}
