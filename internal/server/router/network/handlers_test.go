package network

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/server"
)

// fakeBackend keeps networks by name and records what the routes passed it.
type fakeBackend struct {
	nets      map[string]network.Inspect
	created   network.CreateRequest
	listed    filters.Args
	pruned    filters.Args
	connected struct {
		net, ctr string
		ep       *network.EndpointSettings
	}
	disconnected struct {
		net, ctr string
		force    bool
	}
}

func newFake() *fakeBackend {
	n := network.Inspect{Network: network.Network{Name: "n1", ID: "abc123", Scope: "local", Driver: "bridge"}}
	return &fakeBackend{nets: map[string]network.Inspect{"n1": n}}
}

func (f *fakeBackend) Create(_ context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	if _, ok := f.nets[req.Name]; ok {
		return network.CreateResponse{}, errdefs.Conflictf("network with name %s already exists", req.Name)
	}
	f.created = req
	return network.CreateResponse{ID: "def456"}, nil
}

func (f *fakeBackend) List(_ context.Context, args filters.Args) ([]network.Summary, error) {
	f.listed = args
	var out []network.Summary
	for _, n := range f.nets {
		out = append(out, network.Summary{Network: n.Network})
	}
	return out, nil
}

func (f *fakeBackend) Inspect(_ context.Context, ref string) (network.Inspect, error) {
	for _, n := range f.nets {
		if n.Name == ref || n.ID == ref {
			return n, nil
		}
	}
	return network.Inspect{}, errdefs.NotFoundf("network %s not found", ref)
}

func (f *fakeBackend) Remove(ctx context.Context, ref string) error {
	n, err := f.Inspect(ctx, ref)
	if err != nil {
		return err
	}
	if n.Name == "bridge" {
		return errdefs.Forbiddenf("bridge is a pre-defined network and cannot be removed")
	}
	delete(f.nets, n.Name)
	return nil
}

func (f *fakeBackend) Prune(_ context.Context, args filters.Args) ([]string, error) {
	f.pruned = args
	return []string{"n1"}, nil
}

func (f *fakeBackend) ConnectNetwork(_ context.Context, netRef, ctrRef string, ep *network.EndpointSettings) error {
	f.connected.net, f.connected.ctr, f.connected.ep = netRef, ctrRef, ep
	return nil
}

func (f *fakeBackend) DisconnectNetwork(_ context.Context, netRef, ctrRef string, force bool) error {
	f.disconnected.net, f.disconnected.ctr, f.disconnected.force = netRef, ctrRef, force
	return nil
}

// call sends one request through a real server (version prefix, routing, error mapping).
func call(t *testing.T, b Backend, method, path, body string) (int, string) {
	t.Helper()
	s := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), New(b))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec.Code, rec.Body.String()
}

func message(t *testing.T, body string) string {
	t.Helper()
	var m struct{ Message string }
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return m.Message
}

func TestCreate(t *testing.T) {
	b := newFake()
	code, body := call(t, b, "POST", "/v1.51/networks/create",
		`{"Name":"n2","Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.89.0.0/24"}]},"Labels":{"a":"b"},"CheckDuplicate":true}`)
	if code != 201 || !strings.Contains(body, `"Id":"def456"`) || !strings.Contains(body, `"Warning":""`) {
		t.Fatalf("create: %d %s", code, body)
	}
	if b.created.Name != "n2" || b.created.Labels["a"] != "b" || b.created.IPAM.Config[0].Subnet != netip.MustParsePrefix("10.89.0.0/24") {
		t.Errorf("backend got %+v", b.created)
	}
	code, body = call(t, b, "POST", "/networks/create", `{"Name":"n1"}`)
	if code != 409 || message(t, body) != "network with name n1 already exists" {
		t.Errorf("duplicate: %d %s", code, body)
	}
	code, body = call(t, b, "POST", "/networks/create", `{"Name":`)
	if code != 400 || !strings.HasPrefix(message(t, body), "invalid JSON body") {
		t.Errorf("bad body: %d %s", code, body)
	}
}

func TestListFilters(t *testing.T) {
	b := newFake()
	code, body := call(t, b, "GET", `/networks?filters={"label":{"a=b":true},"name":{"n1":true}}`, "")
	if code != 200 || !strings.HasPrefix(body, `[{"Name":"n1"`) {
		t.Fatalf("list: %d %s", code, body)
	}
	if !b.listed.Has("label") || b.listed.Get("name")[0] != "n1" {
		t.Errorf("backend got filters %v", b.listed)
	}
	code, body = call(t, b, "GET", `/networks?filters={"color":{"red":true}}`, "")
	if code != 400 || message(t, body) != "invalid filter 'color'" {
		t.Errorf("unknown filter: %d %s", code, body)
	}
	b.nets = nil
	if code, body = call(t, b, "GET", "/networks", ""); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("empty list: %d %s", code, body)
	}
}

func TestListBefore128CarriesContainers(t *testing.T) {
	b := newFake()
	n := b.nets["n1"]
	n.Containers = map[string]network.EndpointResource{"c1": {Name: "web"}}
	b.nets["n1"] = n
	code, body := call(t, b, "GET", "/v1.27/networks", "")
	if code != 200 || !strings.Contains(body, `"Containers":{"c1":{"Name":"web"`) {
		t.Errorf("list 1.27: %d %s", code, body)
	}
	if _, body = call(t, b, "GET", "/v1.51/networks", ""); strings.Contains(body, "Containers") {
		t.Errorf("list 1.51 has containers: %s", body)
	}
}

func TestInspectAndRemove(t *testing.T) {
	b := newFake()
	if code, body := call(t, b, "GET", "/networks/abc123?verbose=true", ""); code != 200 || !strings.Contains(body, `"Name":"n1"`) {
		t.Errorf("inspect: %d %s", code, body)
	}
	if code, body := call(t, b, "GET", "/networks/n1?scope=swarm", ""); code != 404 || message(t, body) != "network n1 not found" {
		t.Errorf("inspect other scope: %d %s", code, body)
	}
	if code, body := call(t, b, "GET", "/networks/nope", ""); code != 404 || message(t, body) != "network nope not found" {
		t.Errorf("inspect missing: %d %s", code, body)
	}
	b.nets["bridge"] = network.Inspect{Network: network.Network{Name: "bridge", ID: "br"}}
	if code, _ := call(t, b, "DELETE", "/networks/bridge", ""); code != 403 {
		t.Errorf("rm bridge: %d", code)
	}
	if code, body := call(t, b, "DELETE", "/networks/n1", ""); code != 204 || body != "" {
		t.Errorf("rm: %d %s", code, body)
	}
	if code, _ := call(t, b, "DELETE", "/networks/n1", ""); code != 404 {
		t.Errorf("rm again: %d", code)
	}
}

func TestConnectDisconnect(t *testing.T) {
	b := newFake()
	code, body := call(t, b, "POST", "/networks/n1/connect",
		`{"Container":"web","EndpointConfig":{"IPAMConfig":{"IPv4Address":"10.89.0.10"},"Aliases":["db"]}}`)
	if code != 200 || body != "" {
		t.Fatalf("connect: %d %s", code, body)
	}
	ep := b.connected.ep
	if b.connected.net != "n1" || b.connected.ctr != "web" || ep == nil || ep.IPAMConfig.IPv4Address != netip.MustParseAddr("10.89.0.10") || ep.Aliases[0] != "db" {
		t.Errorf("backend got %+v", b.connected)
	}
	if code, body = call(t, b, "POST", "/networks/n1/connect", `{}`); code != 400 {
		t.Errorf("connect without container: %d %s", code, body)
	}
	if code, body = call(t, b, "POST", "/networks/n1/disconnect", `{"Container":"web","Force":true}`); code != 200 {
		t.Fatalf("disconnect: %d %s", code, body)
	}
	if b.disconnected.net != "n1" || b.disconnected.ctr != "web" || !b.disconnected.force {
		t.Errorf("backend got %+v", b.disconnected)
	}
	if code, _ = call(t, b, "POST", "/networks/n1/disconnect", `[`); code != 400 {
		t.Errorf("disconnect bad body: %d", code)
	}
}

func TestPrune(t *testing.T) {
	b := newFake()
	code, body := call(t, b, "POST", `/networks/prune?filters={"until":{"10m":true},"label!":{"keep":true}}`, "")
	if code != 200 || strings.TrimSpace(body) != `{"NetworksDeleted":["n1"]}` {
		t.Fatalf("prune: %d %s", code, body)
	}
	if b.pruned.Get("until")[0] != "10m" || !b.pruned.Has("label!") {
		t.Errorf("backend got %v", b.pruned)
	}
	if code, _ = call(t, b, "POST", `/networks/prune?filters={"driver":{"bridge":true}}`, ""); code != 400 {
		t.Errorf("prune with a list-only filter: %d", code)
	}
}
