package command

import (
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/network"
)

const (
	n1ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	n2ID = "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000"
)

func networkDaemon(t *testing.T) *fakeDaemon {
	d := newFakeDaemon(t)
	d.handle("GET /networks", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, []network.Summary{
			{Network: network.Network{Name: "n10", ID: n2ID, Driver: "bridge", Scope: "local"}},
			{Network: network.Network{Name: "n2", ID: n1ID, Driver: "bridge", Scope: "local", Labels: map[string]string{"b": "2", "a": "1"}}},
		})
	})
	d.handle("GET /networks/n2", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, network.Inspect{Network: network.Network{Name: "n2", ID: n1ID, IPAM: network.IPAM{
			Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix("10.89.0.0/24")}},
		}}})
	})
	notFound := func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 404, map[string]string{"message": "network nope not found"})
	}
	d.handle("GET /networks/nope", notFound)
	d.handle("DELETE /networks/nope", notFound)
	d.handle("DELETE /networks/n2", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	return d
}

func TestNetworkList(t *testing.T) {
	d := networkDaemon(t)
	res := d.run(t, "", "network", "ls")
	want := "NETWORK ID     NAME      DRIVER    SCOPE\n" +
		"a1b2c3d4e5f6   n2        bridge    local\n" +
		"0f0e0d0c0b0a   n10       bridge    local\n"
	if res.code != 0 || res.stdout != want {
		t.Fatalf("ls: %+v\nwant:\n%s", res, want)
	}
	if res = d.run(t, "", "network", "ls", "-q", "--no-trunc"); res.stdout != n1ID+"\n"+n2ID+"\n" {
		t.Errorf("ls -q --no-trunc: %+v", res)
	}
	res = d.run(t, "", "network", "list", "--filter", "label=a=1", "-f", "name=n2", "--format", "{{.Name}} {{.Labels}} {{.Label \"b\"}} {{.IPv6}}")
	if res.stdout != "n2 a=1,b=2 2 false\nn10   false\n" {
		t.Errorf("ls --format: %+v", res)
	}
	req, _ := d.last()
	if req.URL.Query().Get("filters") != `{"label":{"a=1":true},"name":{"n2":true}}` {
		t.Errorf("filters %q", req.URL.RawQuery)
	}
	res = d.run(t, "", "network", "ls", "--format", "json")
	var row map[string]string
	if err := json.Unmarshal([]byte(strings.SplitN(res.stdout, "\n", 2)[0]), &row); err != nil || row["ID"] != "a1b2c3d4e5f6" || row["Labels"] != "a=1,b=2" {
		t.Errorf("ls --format json: %v %+v", err, res)
	}
}

func TestNetworkInspectRemove(t *testing.T) {
	d := networkDaemon(t)
	res := d.run(t, "", "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "n2")
	if res.code != 0 || res.stdout != "10.89.0.0/24\n" {
		t.Errorf("inspect -f: %+v", res)
	}
	res = d.run(t, "", "network", "inspect", "n2", "nope")
	if res.code != 1 || !strings.HasPrefix(res.stdout, "[\n    {\n        \"Name\": \"n2\",") ||
		res.stderr != "Error response from daemon: network nope not found\n" {
		t.Errorf("inspect: %+v", res)
	}
	res = d.run(t, "", "network", "rm", "nope", "n2")
	if res.code != 1 || res.stdout != "n2\n" || res.stderr != "Error response from daemon: network nope not found\n" {
		t.Errorf("rm: %+v", res)
	}
	if res = d.run(t, "", "network", "remove", "-f", "nope"); res.code != 0 || res.stderr != "" {
		t.Errorf("rm -f of a missing network: %+v", res)
	}
}

func TestNetworkCreate(t *testing.T) {
	d := newFakeDaemon(t)
	var got network.CreateRequest
	d.handle("POST /networks/create", func(w http.ResponseWriter, r *http.Request) {
		got = network.CreateRequest{}
		_ = json.NewDecoder(r.Body).Decode(&got)
		if got.Name == "dup" {
			sendJSON(w, 409, map[string]string{"message": "network with name dup already exists"})
			return
		}
		sendJSON(w, 201, network.CreateResponse{ID: n1ID})
	})
	res := d.run(t, "", "network", "create", "--subnet", "10.89.0.0/24", "--gateway", "10.89.0.254", "--ip-range", "10.89.0.128/25",
		"--aux-address", "host=10.89.0.2", "--label", "a=b", "-o", "com.docker.network.bridge.name=br-n1", "--internal", "--ipv6", "n1")
	if res.code != 0 || res.stdout != n1ID+"\n" {
		t.Fatalf("create: %+v", res)
	}
	cfg := got.IPAM.Config
	if got.Name != "n1" || got.Driver != "bridge" || got.Labels["a"] != "b" || got.Options["com.docker.network.bridge.name"] != "br-n1" ||
		!got.Internal || got.EnableIPv6 == nil || !*got.EnableIPv6 || got.EnableIPv4 != nil || got.IPAM.Driver != "default" || len(cfg) != 1 ||
		cfg[0].Gateway.String() != "10.89.0.254" || cfg[0].IPRange.String() != "10.89.0.128/25" || cfg[0].AuxAddress["host"].String() != "10.89.0.2" {
		t.Errorf("create request %+v", got)
	}
	res = d.run(t, "", "network", "create", "dup")
	if res.code != 1 || res.stderr != "Error response from daemon: network with name dup already exists\n" {
		t.Errorf("duplicate: %+v", res)
	}
	for args, msg := range map[string]string{
		"--gateway 10.0.0.1":                            "every ip-range or gateway must have a corresponding subnet",
		"--subnet 10.0.0.0/16 --subnet 10.0.1.0/24":     "multiple overlapping subnet configuration is not allowed",
		"--subnet 10.0.0.0/24 --ip-range 10.1.0.0/25":   "no matching subnet for range 10.1.0.0/25",
		"--subnet 10.0.0.0/24 --gateway 10.1.0.1":       "no matching subnet for gateway 10.1.0.1",
		"--subnet 10.0.0.0/24 --aux-address a=10.2.0.1": "no matching subnet for aux-address 10.2.0.1",
	} {
		res = d.run(t, "", append(append([]string{"network", "create"}, strings.Fields(args)...), "x")...)
		if res.code != 1 || res.stderr != msg+"\n" {
			t.Errorf("create %s: %+v", args, res)
		}
	}
}

func TestNetworkPruneConnect(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("POST /networks/prune", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, network.PruneReport{NetworksDeleted: []string{"n1", "n2"}})
	})
	res := d.run(t, "y\n", "network", "prune", "--filter", "until=1h")
	want := "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] " +
		"Deleted Networks:\nn1\nn2\n\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("prune:\n%q\nwant\n%q", res.stdout, want)
	}
	n := len(d.reqs)
	if res = d.run(t, "n\n", "network", "prune"); res.code != 0 || len(d.reqs) != n {
		t.Errorf("declined prune: %+v", res)
	}

	var body string
	record := func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.WriteHeader(200)
	}
	d.handle("POST /networks/n1/connect", record)
	d.handle("POST /networks/n1/disconnect", record)
	res = d.run(t, "", "network", "connect", "--ip", "10.89.0.10", "--alias", "db,cache", "--driver-opt", "k=v", "n1", "web")
	var cr network.ConnectRequest
	_ = json.Unmarshal([]byte(body), &cr)
	ep := cr.EndpointConfig
	if res.code != 0 || res.stdout != "" || cr.Container != "web" || ep == nil || ep.IPAMConfig.IPv4Address.String() != "10.89.0.10" ||
		strings.Join(ep.Aliases, ",") != "db,cache" || ep.DriverOpts["k"] != "v" {
		t.Errorf("connect: %+v %s", res, body)
	}
	if res = d.run(t, "", "network", "connect", "--ip", "nope", "n1", "web"); res.code != 1 || res.stderr != "invalid IPv4 address: nope\n" {
		t.Errorf("connect with a bad address: %+v", res)
	}
	res = d.run(t, "", "network", "disconnect", "-f", "n1", "web")
	if res.code != 0 || body != `{"Container":"web","Force":true}` {
		t.Errorf("disconnect: %+v %s", res, body)
	}
}

func TestInspectFindsNetworks(t *testing.T) {
	d := networkDaemon(t)
	d.handle("GET /containers/n2/json", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 404, map[string]string{"message": "No such container: n2"})
	})
	d.handle("GET /images/n2/json", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 404, map[string]string{"message": "No such image: n2"})
	})
	if res := d.run(t, "", "inspect", "-f", "{{.Name}} {{.Id}}", "n2"); res.code != 0 || res.stdout != "n2 "+n1ID+"\n" {
		t.Errorf("inspect n2: %+v", res)
	}
	if res := d.run(t, "", "inspect", "--type", "network", "-f", "{{.Name}}", "n2"); res.code != 0 || res.stdout != "n2\n" {
		t.Errorf("inspect --type network: %+v", res)
	}
}
