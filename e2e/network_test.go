package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"

	"github.com/berth-project/berth/integration/harness"
)

// httpd runs busybox's httpd serving body as /index.html.
func httpdCmd(body string) []string {
	return []string{"busybox", "sh", "-c", "mkdir -p /www && echo " + body + " > /www/index.html && exec httpd -f -p 80 -h /www"}
}

// fetch GETs url until it answers (the server needs a moment to bind) or the deadline passes.
func fetch(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
			err = &net.AddrError{Err: resp.Status, Addr: url}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// TestNetworking is the networking issue's acceptance list, with the docker CLI and with berth.
func TestNetworking(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			c.ok("network", "create", "--subnet", "10.89.0.0/24", "n1")

			// A fixed address, visible inside.
			if out := c.ok("run", "--rm", "--network", "n1", "--ip", "10.89.0.10", "busybox", "ip", "-4", "addr", "show", "eth0"); !strings.Contains(out, "inet 10.89.0.10/24") {
				t.Fatalf("--ip 10.89.0.10: %s", out)
			}

			// Names and aliases resolve and answer on a user-defined network.
			c.ok("run", "-d", "--name", "srv", "--network", "n1", "--network-alias", "db", "busybox", "sleep", "300")
			srvIP := strings.TrimSpace(c.ok("inspect", "-f", "{{.NetworkSettings.Networks.n1.IPAddress}}", "srv"))
			if !strings.HasPrefix(srvIP, "10.89.0.") {
				t.Fatalf("srv address on n1: %q", srvIP)
			}
			for _, n := range []string{"srv", "db"} {
				out := c.ok("run", "--rm", "--network", "n1", "busybox", "sh", "-c", "nslookup "+n+" && ping -c1 -W2 "+n)
				if !strings.Contains(out, srvIP) || !strings.Contains(out, "1 packets received") {
					t.Fatalf("resolve and reach %s on n1: %s", n, out)
				}
			}
			// stats counts the traffic on the container's interfaces.
			if io := strings.TrimSpace(c.ok("stats", "--no-stream", "--format", "{{.NetIO}}", "srv")); io == "" || strings.HasPrefix(io, "0B /") {
				t.Fatalf("stats NetIO after pings to srv: %q", io)
			}
			// The default bridge has no name DNS.
			if out, _, code := c.run("", "run", "--rm", "busybox", "nslookup", "srv"); code == 0 && strings.Contains(out, srvIP) {
				t.Fatalf("srv resolved on the default bridge: %s", out)
			}
			// Networks are isolated from each other.
			dflt := strings.TrimSpace(c.ok("run", "-d", "--name", "other", "busybox", "sleep", "300"))
			otherIP := strings.TrimSpace(c.ok("inspect", "-f", "{{.NetworkSettings.Networks.bridge.IPAddress}}", dflt))
			// API 1.51 still has the default bridge's address at the top level, and scripts read it there.
			if legacy := strings.TrimSpace(c.ok("inspect", "-f", "{{.NetworkSettings.IPAddress}}", dflt)); legacy != otherIP || otherIP == "" {
				t.Fatalf("NetworkSettings.IPAddress %q, bridge endpoint %q", legacy, otherIP)
			}
			if _, _, code := c.run("", "run", "--rm", "--network", "n1", "busybox", "ping", "-c1", "-W1", otherIP); code == 0 {
				t.Fatalf("a container on n1 reached %s on the default bridge", otherIP)
			}

			// host and none.
			// The host namespace is the one with this daemon's own bridge in it (other tests
			// running meanwhile add and remove interfaces, so the lists are not compared whole).
			out := c.ok("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net")
			if !slices.Contains(strings.Fields(out), c.d.Bridge) {
				t.Fatalf("--network host sees %q, without the host's bridge %s", out, c.d.Bridge)
			}
			if out := c.ok("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"); strings.TrimSpace(out) != "lo" {
				t.Fatalf("--network none interfaces: %q", out)
			}

			// Published ports: a fixed one on loopback, a random one, and a clash.
			port := freePort(t)
			c.ok(append([]string{"run", "-d", "--name", "web", "-p", "127.0.0.1:" + port + ":80"}, httpdCmd("hello-fixed")...)...)
			if got := fetch(t, "http://127.0.0.1:"+port+"/"); got != "hello-fixed\n" {
				t.Fatalf("fixed port served %q", got)
			}
			c.ok(append([]string{"run", "-d", "--name", "web2", "--network", "n1", "-p", "80"}, httpdCmd("hello-random")...)...)
			mapped := strings.TrimSpace(c.ok("port", "web2", "80/tcp"))
			_, random, err := net.SplitHostPort(strings.Fields(mapped)[0])
			if err != nil || random == "0" {
				t.Fatalf("docker port web2: %q", mapped)
			}
			if got := fetch(t, "http://127.0.0.1:"+random+"/"); got != "hello-random\n" {
				t.Fatalf("random port served %q", got)
			}
			if _, errOut, code := c.run("", "run", "-d", "-p", "127.0.0.1:"+port+":80", "busybox", "true"); code != 125 || !strings.Contains(errOut, "address already in use") {
				t.Fatalf("a taken port: exit %d %q", code, errOut)
			}

			// connect and disconnect on a running container.
			c.ok("network", "connect", "--alias", "side", "n1", "other")
			if out := c.ok("exec", "other", "ip", "-4", "addr", "show", "eth1"); !strings.Contains(out, "10.89.0.") {
				t.Fatalf("after connect: %s", out)
			}
			if out := c.ok("run", "--rm", "--network", "n1", "busybox", "nslookup", "side"); !strings.Contains(out, "10.89.0.") {
				t.Fatalf("alias given at connect: %s", out)
			}
			c.ok("network", "disconnect", "n1", "other")
			if _, _, code := c.run("", "exec", "other", "ip", "addr", "show", "eth1"); code == 0 {
				t.Fatal("eth1 still there after disconnect")
			}

			// A network in use cannot be removed.
			if _, errOut, code := c.run("", "network", "rm", "n1"); code == 0 || !strings.Contains(errOut, "active endpoints") {
				t.Fatalf("rm of a network in use: exit %d %q", code, errOut)
			}

			// Running containers stay reachable across a daemon restart, ports and names included.
			c.d.Kill()
			c.d.Restart()
			if got := fetch(t, "http://127.0.0.1:"+port+"/"); got != "hello-fixed\n" {
				t.Fatalf("after restart the fixed port served %q", got)
			}
			if out := c.ok("run", "--rm", "--network", "n1", "busybox", "nslookup", "srv"); !strings.Contains(out, srvIP) {
				t.Fatalf("DNS after restart: %s", out)
			}

			// Removing everything leaves nothing of berth's in the kernel.
			netID := strings.TrimSpace(c.ok("network", "inspect", "-f", "{{.Id}}", "n1"))
			c.ok("rm", "-f", "srv", "other", "web", "web2")
			c.ok("network", "rm", "n1")
			if _, err := netlink.LinkByName("br-" + netID[:12]); err == nil {
				t.Fatal("the bridge of n1 is still there")
			}
			c.d.Stop()
			if _, err := netlink.LinkByName(c.d.Bridge); err == nil {
				t.Fatalf("the default bridge %s outlived a daemon with no containers", c.d.Bridge)
			}
			conn, err := nftables.New()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ListTableOfFamily("berth_"+c.d.Bridge, nftables.TableFamilyIPv4); err == nil {
				t.Fatal("the daemon's nftables table outlived it")
			}
			// The kernel destroys a namespace, and the veth pairs in it, in the background.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				left := vethsOn(c.d.Bridge, "br-"+netID[:12])
				if len(left) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("veths left behind: %v", left)
				}
			}
		})
	}
}

// TestInternalNetwork: an --internal network has no route out.
func TestInternalNetwork(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	c.ok("network", "create", "--internal", "--subnet", "10.90.0.0/24", "sealed")
	out := c.ok("run", "--rm", "--network", "sealed", "busybox", "ip", "route")
	if strings.Contains(out, "default") {
		t.Fatalf("internal network has a default route: %s", out)
	}
	c.ok("run", "-d", "--name", "peer", "--network", "sealed", "busybox", "sleep", "300")
	if out := c.ok("run", "--rm", "--network", "sealed", "busybox", "ping", "-c1", "-W2", "peer"); !strings.Contains(out, "1 packets received") {
		t.Fatalf("containers on one internal network reach each other: %s", out)
	}
}

// TestRestartWhileOldNetnsLives: a host process inside a container's network namespace keeps
// that namespace, and the veth of the run, alive after the container stops. The next run must
// still get a network of its own: the restart used to fail with "create veth …: file exists"
// whenever the kernel had not yet destroyed the old namespace. A container with a static IP
// must also leave no old veth on the bridge, since the old namespace has the same address.
func TestRestartWhileOldNetnsLives(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	for i, args := range [][]string{nil, {"--ip", "10.91.1.50"}} {
		name := "dynamic"
		if args != nil {
			name = "static"
		}
		subnet := fmt.Sprintf("10.91.%d.0/24", i)
		netID := strings.TrimSpace(c.ok("network", "create", "--subnet", subnet, name))
		c.ok(append(append([]string{"run", "-d", "--name", name, "--network", name}, args...), "busybox", "sleep", "300")...)
		pid := strings.TrimSpace(c.ok("inspect", "-f", "{{.State.Pid}}", name))
		holder := exec.Command("nsenter", "--net=/proc/"+pid+"/ns/net", "sleep", "60")
		if err := holder.Start(); err != nil {
			t.Fatalf("nsenter: %v", err)
		}
		t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
		for range 3 {
			c.ok("restart", "-t", "0", name)
		}
		gateway := fmt.Sprintf("10.91.%d.1", i)
		if out := c.ok("exec", name, "ping", "-c1", "-W2", gateway); !strings.Contains(out, "1 packets received") {
			t.Fatalf("%s: restarted container cannot reach its gateway: %s", name, out)
		}
		if name == "static" {
			if on := vethsOn("br-" + netID[:12]); len(on) != 1 {
				t.Fatalf("veths on the static container's bridge after its restarts: %v, want only the current run's", on)
			}
		}
	}
}

// vethsOn lists the veths whose master is one of the named bridges, or whose master is gone.
func vethsOn(bridges ...string) []string {
	links, _ := netlink.LinkList()
	var out []string
	for _, l := range links {
		master := l.Attrs().MasterIndex
		if _, ok := l.(*netlink.Veth); !ok || master == 0 {
			continue
		}
		m, err := netlink.LinkByIndex(master)
		if err != nil || slices.Contains(bridges, m.Attrs().Name) {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}

// TestDefaultAddressPools: networks without --subnet take their subnets from the configured pools.
func TestDefaultAddressPools(t *testing.T) {
	d := harness.Start(t, "--default-address-pool", "base=10.123.0.0/16,size=24")
	c := &cli{t: t, bin: dockerCLI(t), d: d, dir: t.TempDir()}
	if out := c.ok("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "bridge"); strings.TrimSpace(out) != "10.123.0.0/24" {
		t.Fatalf("default bridge subnet %q", out)
	}
	c.ok("network", "create", "pooled")
	if out := c.ok("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", "pooled"); strings.TrimSpace(out) != "10.123.1.0/24 10.123.1.1" {
		t.Fatalf("second network from the pool: %q", out)
	}
}

// TestHostForwardDrop: on a host whose FORWARD chain drops by policy (as after dockerd ran with
// iptables), with br_netfilter passing bridged traffic through that chain, containers on a berth
// network still reach each other; the exceptions berth adds go away with the network. The host's
// policy is put back when the test ends.
func TestHostForwardDrop(t *testing.T) {
	iptables, err := exec.LookPath("iptables")
	if err != nil {
		t.Skip("no iptables on this host")
	}
	if b, _ := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables"); strings.TrimSpace(string(b)) != "1" {
		t.Skip("bridged traffic does not pass through iptables here (br_netfilter off)")
	}
	before, err := exec.Command(iptables, "-w", "-S", "FORWARD").Output()
	if err != nil {
		t.Fatal(err)
	}
	policy := "ACCEPT"
	if strings.Contains(string(before), "-P FORWARD DROP") {
		policy = "DROP"
	}
	if out, err := exec.Command(iptables, "-w", "-P", "FORWARD", "DROP").CombinedOutput(); err != nil {
		t.Fatalf("iptables -P FORWARD DROP: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command(iptables, "-w", "-P", "FORWARD", policy).Run() })

	c := withBusybox(t, dockerCLI(t))
	c.ok("network", "create", "--subnet", "10.91.0.0/24", "guarded")
	c.ok("run", "-d", "--name", "target", "--network", "guarded", "busybox", "sleep", "300")
	if out := c.ok("run", "--rm", "--network", "guarded", "busybox", "ping", "-c1", "-W2", "target"); !strings.Contains(out, "1 packets received") {
		t.Fatalf("containers on one network under FORWARD DROP: %s", out)
	}
	netID := strings.TrimSpace(c.ok("network", "inspect", "-f", "{{.Id}}", "guarded"))
	bridge := "br-" + netID[:12]
	rules, _ := exec.Command(iptables, "-w", "-S", "FORWARD").Output()
	if !strings.Contains(string(rules), "berth "+bridge) {
		t.Fatalf("no exception for %s in the host's FORWARD chain:\n%s", bridge, rules)
	}
	c.ok("rm", "-f", "target")
	c.ok("network", "rm", "guarded")
	if rules, _ := exec.Command(iptables, "-w", "-S", "FORWARD").Output(); strings.Contains(string(rules), "berth "+bridge) {
		t.Fatalf("exceptions for %s outlived the network:\n%s", bridge, rules)
	}
}
