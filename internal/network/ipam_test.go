package network

import (
	"net/netip"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestPoolAllocate(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("10.89.0.0/29"), netip.Addr{}, netip.Prefix{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Gateway != netip.MustParseAddr("10.89.0.1") {
		t.Fatalf("gateway %s", p.Gateway)
	}
	if err := p.Claim(netip.MustParseAddr("10.89.0.3")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		a, err := p.Allocate()
		if err != nil {
			if !(errdefs.ClassOf(err) == errdefs.Unavailable) {
				t.Fatalf("exhausted pool: %v", err)
			}
			break
		}
		got = append(got, a.String())
	}
	// .0 network, .1 gateway, .3 claimed, .7 broadcast
	want := []string{"10.89.0.2", "10.89.0.4", "10.89.0.5", "10.89.0.6"}
	if len(got) != len(want) {
		t.Fatalf("allocated %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocated %v, want %v", got, want)
		}
	}
	p.Release(netip.MustParseAddr("10.89.0.4"))
	if a, err := p.Allocate(); err != nil || a.String() != "10.89.0.4" {
		t.Fatalf("reuse after release: %v %v", a, err)
	}
	if err := p.Claim(netip.MustParseAddr("10.89.0.5")); !errdefs.IsConflict(err) {
		t.Fatalf("claim of a used address: %v", err)
	}
	for _, bad := range []string{"10.90.0.5", "10.89.0.0", "10.89.0.7"} {
		if err := p.Claim(netip.MustParseAddr(bad)); !errdefs.IsInvalidArgument(err) {
			t.Errorf("claim %s: %v", bad, err)
		}
	}
}

func TestPoolRangeAndValidation(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("10.1.0.0/16"), netip.MustParseAddr("10.1.0.254"), netip.MustParsePrefix("10.1.5.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := p.Allocate(); a.String() != "10.1.5.0" { // a host address of the /16
		t.Fatalf("first of range: %s", a)
	}
	for _, c := range []struct{ subnet, gw, rng string }{
		{"10.1.0.0/16", "10.2.0.1", ""},
		{"10.1.0.0/16", "", "10.2.0.0/24"},
		{"10.1.0.0/31", "", ""},
	} {
		var gw netip.Addr
		var rng netip.Prefix
		if c.gw != "" {
			gw = netip.MustParseAddr(c.gw)
		}
		if c.rng != "" {
			rng = netip.MustParsePrefix(c.rng)
		}
		if _, err := NewPool(netip.MustParsePrefix(c.subnet), gw, rng); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestPickSubnet(t *testing.T) {
	taken := []netip.Prefix{netip.MustParsePrefix("172.17.0.0/16"), netip.MustParsePrefix("172.18.5.0/24")}
	got, err := PickSubnet(DefaultPools(), taken)
	if err != nil || got.String() != "172.19.0.0/16" {
		t.Fatalf("PickSubnet = %v, %v", got, err)
	}
	if _, err := PickSubnet(DefaultPools()[:1], taken); !(errdefs.ClassOf(err) == errdefs.Unavailable) {
		t.Fatalf("no candidate left: %v", err)
	}
	if l := lastAddr(netip.MustParsePrefix("192.168.16.0/20")); l.String() != "192.168.31.255" {
		t.Fatalf("lastAddr %s", l)
	}
}

func TestExpandPool(t *testing.T) {
	got, err := ExpandPool(netip.MustParsePrefix("10.10.0.0/16"), 24)
	if err != nil || len(got) != 256 || got[0].String() != "10.10.0.0/24" || got[255].String() != "10.10.255.0/24" {
		t.Fatalf("ExpandPool /16 by 24: %d %v %v", len(got), got[:1], err)
	}
	if _, err := ExpandPool(netip.MustParsePrefix("10.10.0.0/16"), 8); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("size below the base: %v", err)
	}
}
