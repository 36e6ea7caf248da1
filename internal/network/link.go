package network

import (
	"errors"
	"fmt"
	gonet "net"
	"net/netip"
	"os"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// createNetNS makes a new network namespace and pins it by bind-mounting it at path, so it
// outlives every process in it (containers restart into the same stack; `container:` mode
// joins it). The namespace switch happens on a locked thread that is put back, or thrown away
// when it cannot be.
func createNetNS(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			runtime.UnlockOSThread()
			return
		}
		err = unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), path, "", unix.MS_BIND, "")
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread() // else the thread ends with this goroutine, still in the new namespace
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return fmt.Errorf("create network namespace: %w", err)
	}
	return nil
}

// removeNetNS unpins a namespace; the kernel frees it (and its veth ends) once unused.
func removeNetNS(path string) {
	unix.Unmount(path, unix.MNT_DETACH)
	os.Remove(path)
}

// nsHandle opens a netlink handle inside the namespace pinned at path.
func nsHandle(path string) (*netlink.Handle, netns.NsHandle, error) {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, 0, err
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, 0, err
	}
	return h, ns, nil
}

// ensureBridge creates (or finds) a bridge with the gateway address and brings it up.
func ensureBridge(name string, gateway netip.Prefix) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: 1500, TxQLen: -1}}
		if err := netlink.LinkAdd(br); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create bridge %s: %w", name, err)
		}
		if link, err = netlink.LinkByName(name); err != nil {
			return err
		}
	}
	if _, ok := link.(*netlink.Bridge); !ok {
		return fmt.Errorf("interface %s exists and is not a bridge", name)
	}
	// A bridge without an address of its own takes the lowest of its ports' and changes it as
	// containers come and go, leaving their cached gateway entry pointing nowhere; as docker
	// does, it gets a fixed one, derived from the gateway like the containers' own.
	if mac := macFor(gateway.Addr()); link.Attrs().HardwareAddr.String() != mac.String() {
		if err := netlink.LinkSetHardwareAddr(link, mac); err != nil {
			return fmt.Errorf("address %s of bridge %s: %w", mac, name, err)
		}
	}
	addr := &netlink.Addr{IPNet: ipNet(gateway)}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return fmt.Errorf("address %s on %s: %w", gateway, name, err)
	}
	// Published ports answer on 127.0.0.1 too: NAT of loopback traffic needs the bridge to
	// accept 127/8 sources.
	writeSysctl("net/ipv4/conf/"+name+"/route_localnet", "1")
	return netlink.LinkSetUp(link)
}

func removeBridge(name string) {
	if link, err := netlink.LinkByName(name); err == nil {
		netlink.LinkDel(link)
	}
}

// endpointLink is a container's interface on one network.
type endpointLink struct {
	hostName string // the veth end on the bridge
	ifName   string // the end in the container, eth0, eth1, ...
	mac      gonet.HardwareAddr
	addr     netip.Prefix
	gateway  netip.Addr // the default route goes here when set
}

// vethName is the host-side name of an endpoint's veth. It comes from the endpoint ID, which
// is new for every attach: the veth of a container's previous run lives on until the kernel
// has destroyed that run's namespace, so a name derived from the container would collide
// when it restarts at once.
func vethName(endpointID string) string {
	return "veth" + endpointID[:11]
}

// macFor is docker's MAC scheme: 02:42 and the IPv4 address.
func macFor(a netip.Addr) gonet.HardwareAddr {
	b := a.As4()
	return gonet.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// addEndpoint creates a veth pair with one end on bridge and the other, configured, in the
// namespace at nsPath.
func addEndpoint(nsPath, bridge string, ep endpointLink) error {
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", bridge, err)
	}
	h, ns, err := nsHandle(nsPath)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	peerTmp := "p" + ep.hostName[4:]
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: ep.hostName, MasterIndex: br.Attrs().Index, MTU: 1500, TxQLen: -1},
		PeerName:      peerTmp,
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s: %w", ep.hostName, err)
	}
	fail := func(err error) error {
		netlink.LinkDel(veth)
		return err
	}
	if err := netlink.LinkSetUp(veth); err != nil {
		return fail(err)
	}
	peer, err := h.LinkByName(peerTmp)
	if err != nil {
		return fail(err)
	}
	if err := h.LinkSetName(peer, ep.ifName); err != nil {
		return fail(fmt.Errorf("rename %s to %s: %w", peerTmp, ep.ifName, err))
	}
	if err := h.LinkSetHardwareAddr(peer, ep.mac); err != nil {
		return fail(err)
	}
	if err := h.AddrAdd(peer, &netlink.Addr{IPNet: ipNet(ep.addr)}); err != nil {
		return fail(fmt.Errorf("address %s: %w", ep.addr, err))
	}
	if err := h.LinkSetUp(peer); err != nil {
		return fail(err)
	}
	if lo, err := h.LinkByName("lo"); err == nil {
		h.LinkSetUp(lo)
	}
	if ep.gateway.IsValid() {
		gw := ep.gateway.AsSlice()
		if err := h.RouteReplace(&netlink.Route{LinkIndex: peer.Attrs().Index, Gw: gw}); err != nil {
			return fail(fmt.Errorf("default route via %s: %w", ep.gateway, err))
		}
	}
	return nil
}

// removeEndpoint deletes a veth pair by its host-side name (both ends go).
func removeEndpoint(hostName string) {
	if link, err := netlink.LinkByName(hostName); err == nil {
		netlink.LinkDel(link)
	}
}

// loopbackUp brings lo up in a namespace that has no other interface (--network none).
func loopbackUp(nsPath string) error {
	h, ns, err := nsHandle(nsPath)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	return h.LinkSetUp(lo)
}

// hostRoutes lists the IPv4 destinations the host routes, so that a default subnet is never
// picked on top of a VPN or LAN (the default route itself is skipped).
func hostRoutes() []netip.Prefix {
	routes, err := netlink.RouteList(nil, unix.AF_INET)
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		a, ok := netip.AddrFromSlice(r.Dst.IP.To4())
		if ok && ones > 0 {
			out = append(out, netip.PrefixFrom(a, ones).Masked())
		}
	}
	return out
}

func enableForwarding() error { return writeSysctl("net/ipv4/ip_forward", "1") }

func writeSysctl(key, value string) error {
	return os.WriteFile("/proc/sys/"+strings.TrimPrefix(key, "/"), []byte(value), 0o644)
}

func ipNet(p netip.Prefix) *gonet.IPNet {
	return &gonet.IPNet{IP: p.Addr().AsSlice(), Mask: gonet.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
