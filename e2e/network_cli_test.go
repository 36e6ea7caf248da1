package e2e

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestNetworkCommands runs the network verbs with the docker CLI and with berth: create with
// IPAM and labels, ls and its filters, inspect templates, docker's errors, rm and prune.
func TestNetworkCommands(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			id := strings.TrimSpace(c.ok("network", "create", "--subnet", "10.89.0.0/24", "--label", "a=b", "n1"))
			if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
				t.Fatalf("create printed %q", id)
			}
			c.ok("network", "create", "n2")

			out := c.ok("network", "ls")
			if !strings.HasPrefix(out, "NETWORK ID     NAME      DRIVER    SCOPE\n") ||
				!regexp.MustCompile(`(?m)^`+id[:12]+`\s+n1\s+bridge\s+local$`).MatchString(out) {
				t.Fatalf("ls:\n%s", out)
			}
			for _, builtin := range []string{"bridge", "host", "none"} {
				if !regexp.MustCompile(`(?m)^[0-9a-f]{12}\s+` + builtin + `\s`).MatchString(out) {
					t.Errorf("ls has no %s network:\n%s", builtin, out)
				}
			}
			quiet := strings.Fields(c.ok("network", "ls", "-q"))
			if len(quiet) != 5 || !contains(quiet, id[:12]) {
				t.Errorf("ls -q: %q", quiet)
			}
			if out := c.ok("network", "ls", "-q", "--no-trunc", "--filter", "label=a=b"); out != id+"\n" {
				t.Errorf("ls --filter label=a=b: %q", out)
			}
			if out := c.ok("network", "ls", "--filter", "name=n1", "--format", "{{.Name}} {{.Labels}}"); out != "n1 a=b\n" {
				t.Errorf("ls --filter name=n1: %q", out)
			}
			if out := c.ok("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "n1"); out != "10.89.0.0/24\n" {
				t.Errorf("inspect -f: %q", out)
			}
			if out := c.ok("inspect", "-f", "{{.Name}} {{.Driver}}", "n1"); out != "n1 bridge\n" {
				t.Errorf("inspect of a network: %q", out)
			}
			if out := c.ok("network", "inspect", "n1", "n2"); !strings.HasPrefix(out, "[\n    {\n        \"Name\": \"n1\",") || !strings.Contains(out, "\"Name\": \"n2\"") {
				t.Errorf("inspect:\n%s", out)
			}

			_, errOut, code := c.run("", "network", "create", "n1")
			if code != 1 || errOut != "Error response from daemon: network with name n1 already exists\n" {
				t.Errorf("duplicate create: exit %d %q", code, errOut)
			}
			// docker 28 adds a line "exit status 1"; berth leaves it out.
			out, errOut, code = c.run("", "network", "rm", "nope")
			if code != 1 || out != "" || !strings.HasPrefix(errOut, "Error response from daemon: network nope not found\n") {
				t.Errorf("rm of a missing network: exit %d %q %q", code, out, errOut)
			}
			if out := c.ok("network", "rm", "-f", "nope", "n1"); out != "n1\n" {
				t.Errorf("rm -f: %q", out)
			}

			c.ok("network", "create", "p1")
			out, _, code = c.run("n\n", "network", "prune")
			if code != 0 || out != "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] " {
				t.Errorf("declined prune: exit %d %q", code, out)
			}
			out = c.ok("network", "prune", "-f")
			lines := strings.Split(out, "\n")
			if len(lines) != 5 || lines[0] != "Deleted Networks:" || lines[3] != "" || lines[4] != "" {
				t.Fatalf("prune -f: %q", out)
			}
			pruned := lines[1:3]
			sort.Strings(pruned)
			if strings.Join(pruned, ",") != "n2,p1" {
				t.Errorf("prune removed %q", pruned)
			}
			if out := c.ok("network", "ls", "--format", "{{.Name}}"); out != "bridge\nhost\nnone\n" {
				t.Errorf("after prune: %q", out)
			}
			if out := c.ok("network", "prune", "-f"); out != "" {
				t.Errorf("prune with nothing to do: %q", out)
			}
		})
	}
}

// TestNetworkConnectAndPorts attaches a running container to a second network and back, and
// reads its published ports with port and ps.
func TestNetworkConnectAndPorts(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			c.ok("network", "create", "--subnet", "10.89.1.0/24", "front")
			c.ok("network", "create", "--subnet", "10.89.2.0/24", "back")
			c.ok("run", "-d", "--name", "web", "--network", "front", "-p", "127.0.0.1:38271:80", "-p", "127.0.0.1::81/udp", "busybox", "sleep", "100")
			networks := func() string {
				return strings.TrimSpace(c.ok("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}", "web"))
			}

			c.ok("network", "connect", "--ip", "10.89.2.7", "--alias", "db", "back", "web")
			if got := networks(); got != "back=10.89.2.7 front=10.89.1.2" {
				t.Errorf("after connect: %q", got)
			}
			if out := c.ok("exec", "web", "ip", "-4", "-o", "addr", "show"); !strings.Contains(out, "inet 10.89.2.7/24") {
				t.Errorf("no address from connect inside:\n%s", out)
			}
			if out := c.ok("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "back"); out != "web 10.89.2.7/24\n" {
				t.Errorf("inspect back: %q", out)
			}
			_, errOut, code := c.run("", "network", "rm", "back")
			if code != 1 || !strings.Contains(errOut, "has active endpoints") {
				t.Errorf("rm of a network in use: exit %d %q", code, errOut)
			}
			c.ok("network", "disconnect", "back", "web")
			if got := networks(); got != "front=10.89.1.2" {
				t.Errorf("after disconnect: %q", got)
			}
			_, errOut, code = c.run("", "network", "disconnect", "back", "web")
			if code != 1 || !strings.HasPrefix(errOut, "Error response from daemon: ") {
				t.Errorf("second disconnect: exit %d %q", code, errOut)
			}

			out := c.ok("port", "web")
			udp := regexp.MustCompile(`^80/tcp -> 127\.0\.0\.1:38271\n81/udp -> 127\.0\.0\.1:([0-9]+)\n$`).FindStringSubmatch(out)
			if udp == nil {
				t.Fatalf("port:\n%s", out)
			}
			if out := c.ok("port", "web", "80"); out != "127.0.0.1:38271\n" {
				t.Errorf("port web 80: %q", out)
			}
			if out := c.ok("port", "web", "81/udp"); out != "127.0.0.1:"+udp[1]+"\n" {
				t.Errorf("port web 81/udp: %q", out)
			}
			if _, errOut, code := c.run("", "port", "web", "82"); code != 1 || errOut != "Error: No public port '82' published for web\n" {
				t.Errorf("port of an unpublished port: exit %d %q", code, errOut)
			}
			want := "127.0.0.1:38271->80/tcp, 127.0.0.1:" + udp[1] + "->81/udp"
			if out := c.ok("ps", "--format", "{{.Ports}}"); strings.TrimSpace(out) != want {
				t.Errorf("ps ports: %q, want %q", out, want)
			}
			c.ok("rm", "-f", "web")
			c.ok("network", "rm", "front", "back")
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
