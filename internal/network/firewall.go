package network

import (
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// firewall writes berth's own nftables table (nothing outside it is touched, so the host's
// iptables rules and berth's coexist) in one netlink batch, so every change (a network or a
// published port added or removed, a reconcile at start) is atomic and leaves no stale rule.
type firewall struct {
	conn  *nftables.Conn
	table string
}

func newFirewall(table string) (*firewall, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, err
	}
	return &firewall{conn: c, table: table}, nil
}

// fwNet is a bridge network as the rules see it.
type fwNet struct {
	bridge   string
	subnet   netip.Prefix
	internal bool
}

// fwPort is one published port: traffic to hostIP:hostPort (any local address when hostIP is
// unset) goes to ctrIP:ctrPort.
type fwPort struct {
	proto    byte // unix.IPPROTO_TCP or unix.IPPROTO_UDP
	hostIP   netip.Addr
	hostPort uint16
	ctrIP    netip.Addr
	ctrPort  uint16
}

// sync replaces the table with the rules for nets and ports:
//
//	forward:     same-bridge traffic accepted; internal networks sealed; bridge-to-bridge dropped
//	postrouting: masquerade of each non-internal subnet leaving its bridge, and of loopback
//	             sources reaching a bridge (published ports used from the host itself)
//	prerouting, output: local destinations jump to ports, which DNATs published ports
func (f *firewall) sync(nets []fwNet, ports []fwPort) error {
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: f.table}
	f.conn.AddTable(t) // so that the delete below cannot fail on a first start
	f.conn.DelTable(t)
	f.conn.AddTable(t)

	bridges := &nftables.Set{Table: t, Name: "bridges", KeyType: nftables.TypeIFName}
	var elems []nftables.SetElement
	for _, n := range nets {
		elems = append(elems, nftables.SetElement{Key: ifname(n.bridge)})
	}
	if err := f.conn.AddSet(bridges, elems); err != nil {
		return err
	}

	accept := nftables.ChainPolicyAccept
	forward := f.conn.AddChain(&nftables.Chain{Table: t, Name: "forward", Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	post := f.conn.AddChain(&nftables.Chain{Table: t, Name: "postrouting", Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	pre := f.conn.AddChain(&nftables.Chain{Table: t, Name: "prerouting", Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest})
	out := f.conn.AddChain(&nftables.Chain{Table: t, Name: "output", Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest})
	portsChain := f.conn.AddChain(&nftables.Chain{Table: t, Name: "ports"})

	rule := func(c *nftables.Chain, exprs ...expr.Any) {
		f.conn.AddRule(&nftables.Rule{Table: t, Chain: c, Exprs: exprs})
	}
	for _, n := range nets {
		rule(forward, cat(matchIf(unix.NFT_META_IIFNAME, n.bridge, true), matchIf(unix.NFT_META_OIFNAME, n.bridge, true), verdict(expr.VerdictAccept))...)
		if n.internal {
			rule(forward, cat(matchIf(unix.NFT_META_IIFNAME, n.bridge, true), verdict(expr.VerdictDrop))...)
			rule(forward, cat(matchIf(unix.NFT_META_OIFNAME, n.bridge, true), verdict(expr.VerdictDrop))...)
		} else {
			rule(post, cat(matchAddr(12, n.subnet), matchIf(unix.NFT_META_OIFNAME, n.bridge, false), []expr.Any{&expr.Masq{}})...)
		}
		rule(post, cat(matchAddr(12, netip.MustParsePrefix("127.0.0.0/8")), matchIf(unix.NFT_META_OIFNAME, n.bridge, true), []expr.Any{&expr.Masq{}})...)
	}
	rule(forward, cat(inSet(unix.NFT_META_IIFNAME, bridges), inSet(unix.NFT_META_OIFNAME, bridges), verdict(expr.VerdictDrop))...)

	local := []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
		&expr.Verdict{Kind: expr.VerdictJump, Chain: portsChain.Name},
	}
	rule(pre, local...)
	rule(out, local...)
	for _, p := range ports {
		var m []expr.Any
		if p.hostIP.IsValid() && !p.hostIP.IsUnspecified() {
			m = append(m, matchAddr(16, netip.PrefixFrom(p.hostIP, 32))...)
		}
		m = append(m,
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p.proto}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(p.hostPort)},
			&expr.Immediate{Register: 1, Data: p.ctrIP.AsSlice()},
			&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(p.ctrPort)},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
		)
		rule(portsChain, m...)
	}
	return f.conn.Flush()
}

// remove deletes the table.
func (f *firewall) remove() error {
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: f.table}
	f.conn.AddTable(t)
	f.conn.DelTable(t)
	return f.conn.Flush()
}

func ifname(name string) []byte {
	b := make([]byte, 16)
	copy(b, name)
	return b
}

func matchIf(key expr.MetaKey, name string, equal bool) []expr.Any {
	op := expr.CmpOpEq
	if !equal {
		op = expr.CmpOpNeq
	}
	return []expr.Any{&expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: op, Register: 1, Data: ifname(name)}}
}

func inSet(key expr.MetaKey, s *nftables.Set) []expr.Any {
	return []expr.Any{&expr.Meta{Key: key, Register: 1}, &expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID}}
}

// matchAddr matches the IPv4 source (offset 12) or destination (offset 16) against a prefix.
func matchAddr(offset uint32, p netip.Prefix) []expr.Any {
	mask := ipNet(p).Mask
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

func verdict(k expr.VerdictKind) []expr.Any { return []expr.Any{&expr.Verdict{Kind: k}} }

func cat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
