package network

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkEndpoint times what networking adds to a container start and stop: a pinned
// namespace, a veth pair on a bridge with an address and a default route, then the teardown.
// Root only; run with: go test -run - -bench Endpoint ./internal/network/
func BenchmarkEndpoint(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	bridge := "bbench" + strconv.Itoa(os.Getpid()%10000)
	if err := ensureBridge(bridge, netip.MustParsePrefix("10.213.0.1/16")); err != nil {
		b.Fatal(err)
	}
	defer removeBridge(bridge)
	dir := b.TempDir()
	for _, teardown := range []struct {
		name string
		fn   func(path, host string)
	}{
		{"delete-veth", func(path, host string) { removeEndpoint(host); removeNetNS(path) }},
		{"namespace-only", func(path, host string) { removeNetNS(path) }},
	} {
		b.Run(teardown.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				path := filepath.Join(dir, "ns"+strconv.Itoa(i))
				if err := createNetNS(path); err != nil {
					b.Fatal(err)
				}
				ip := netip.AddrFrom4([4]byte{10, 213, byte(1 + i/250%250), byte(2 + i%250)})
				host := vethName(newID())
				err := addEndpoint(path, bridge, endpointLink{hostName: host, ifName: "eth0", mac: macFor(ip),
					addr: netip.PrefixFrom(ip, 16), gateway: netip.MustParseAddr("10.213.0.1")})
				if err != nil {
					b.Fatal(err)
				}
				teardown.fn(path, host)
			}
		})
	}
}
