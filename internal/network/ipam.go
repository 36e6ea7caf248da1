package network

import (
	"net/netip"
	"slices"

	"github.com/berth-project/berth/internal/errdefs"
)

// Pool is one subnet's address plan: the gateway, the range dynamic addresses come from, and
// the addresses in use. It is pure bookkeeping; persisting leases is the caller's job.
type Pool struct {
	Subnet  netip.Prefix
	Gateway netip.Addr
	Range   netip.Prefix // dynamic allocations come from here; the subnet when unset
	used    map[netip.Addr]bool
	next    netip.Addr // where the next dynamic search starts, so freed addresses are reused late
}

// NewPool validates a subnet, gateway and range the way docker does and returns the pool; a
// missing gateway is the subnet's first host address.
func NewPool(subnet netip.Prefix, gateway netip.Addr, ipRange netip.Prefix) (*Pool, error) {
	if !subnet.IsValid() || !subnet.Addr().Is4() {
		return nil, errdefs.InvalidArgumentf("invalid subnet %s: only IPv4 subnets are supported", subnet)
	}
	if subnet.Bits() > 30 {
		return nil, errdefs.InvalidArgumentf("subnet %s is too small: it needs room for a gateway and a container", subnet)
	}
	subnet = subnet.Masked()
	if !gateway.IsValid() {
		gateway = subnet.Addr().Next()
	}
	if !subnet.Contains(gateway) {
		return nil, errdefs.InvalidArgumentf("no matching subnet for gateway %s", gateway)
	}
	if ipRange.IsValid() {
		ipRange = ipRange.Masked()
		if !subnet.Contains(ipRange.Addr()) || ipRange.Bits() < subnet.Bits() {
			return nil, errdefs.InvalidArgumentf("no matching subnet for range %s", ipRange)
		}
	} else {
		ipRange = subnet
	}
	p := &Pool{Subnet: subnet, Gateway: gateway, Range: ipRange, used: map[netip.Addr]bool{}}
	p.used[gateway] = true
	return p, nil
}

// reserved reports addresses no container may have: the network address and the broadcast.
func (p *Pool) reserved(a netip.Addr) bool {
	return a == p.Subnet.Addr() || a == lastAddr(p.Subnet)
}

// Claim takes a specific address (--ip, or a lease being restored).
func (p *Pool) Claim(a netip.Addr) error {
	switch {
	case !p.Subnet.Contains(a):
		return errdefs.InvalidArgumentf("invalid address %s: it does not belong to any of this network's subnets (%s)", a, p.Subnet)
	case p.reserved(a):
		return errdefs.InvalidArgumentf("invalid address %s: it is the network or broadcast address of %s", a, p.Subnet)
	case p.used[a]:
		return errdefs.Conflictf("Address already in use: %s", a)
	}
	p.used[a] = true
	return nil
}

// Allocate takes the next free address of the range.
func (p *Pool) Allocate() (netip.Addr, error) {
	first := p.Range.Addr()
	last := lastAddr(p.Range)
	start := p.next
	if !start.IsValid() || !p.Range.Contains(start) {
		start = first
	}
	a := start
	for {
		if !p.used[a] && !p.reserved(a) {
			p.used[a] = true
			p.next = a.Next()
			return a, nil
		}
		if a = a.Next(); a == last.Next() || !a.IsValid() {
			a = first
		}
		if a == start {
			return netip.Addr{}, errdefs.Unavailablef("no available IPv4 addresses on this network's address pools: %s", p.Range)
		}
	}
}

// Release frees an address; the gateway is never freed.
func (p *Pool) Release(a netip.Addr) {
	if a != p.Gateway {
		delete(p.used, a)
	}
}

// InUse lists the addresses taken besides the gateway, sorted.
func (p *Pool) InUse() []netip.Addr {
	var out []netip.Addr
	for a := range p.used {
		if a != p.Gateway {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	for i := 3; i >= 0 && host > 0; i-- {
		n := min(host, 8)
		b[i] |= byte(1<<n - 1)
		host -= n
	}
	return netip.AddrFrom4(b)
}

// DefaultPools are the candidate subnets for networks created without --subnet, in docker's
// order: 172.17-31.0.0/16, then 192.168.0-240.0/20.
func DefaultPools() []netip.Prefix {
	var out []netip.Prefix
	for i := 17; i <= 31; i++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(i), 0, 0}), 16))
	}
	for i := 0; i < 256; i += 16 {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(i), 0}), 20))
	}
	return out
}

// ExpandPool splits base into subnets of size bits, in order, as docker's default-address-pools
// entries do (base 10.10.0.0/16 with size 24 gives 10.10.0.0/24, 10.10.1.0/24, ...). At most
// 65536 subnets are listed.
func ExpandPool(base netip.Prefix, size int) ([]netip.Prefix, error) {
	if !base.IsValid() || !base.Addr().Is4() || size < base.Bits() || size > 30 {
		return nil, errdefs.InvalidArgumentf("invalid address pool %s with size %d: the size must be between the base's prefix length and 30", base, size)
	}
	base = base.Masked()
	n := 1 << min(size-base.Bits(), 16)
	step := uint32(1) << (32 - size)
	start := base.Addr().As4()
	first := uint32(start[0])<<24 | uint32(start[1])<<16 | uint32(start[2])<<8 | uint32(start[3])
	out := make([]netip.Prefix, 0, n)
	for i := 0; i < n; i++ {
		v := first + uint32(i)*step
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), size))
	}
	return out, nil
}

// PickSubnet returns the first candidate that overlaps none of taken (other networks' subnets
// and the host's routes).
func PickSubnet(candidates, taken []netip.Prefix) (netip.Prefix, error) {
	for _, c := range candidates {
		if !slices.ContainsFunc(taken, c.Overlaps) {
			return c, nil
		}
	}
	return netip.Prefix{}, errdefs.Unavailablef("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
}

// overlapError is docker's message for a --subnet that clashes with another network.
func overlapError(subnet netip.Prefix, other string) error {
	return errdefs.Forbiddenf("invalid pool request: Pool overlaps with other one on this address space (%s overlaps %s)", subnet, other)
}
