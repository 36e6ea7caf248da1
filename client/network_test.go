package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
)

func TestNetworkCalls(t *testing.T) {
	var bodies []string
	d := newFakeDaemon(t, "1.51", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		q, _ := url.QueryUnescape(r.URL.RawQuery)
		bodies = append(bodies, q+" "+string(b))
		switch r.Method + " " + r.URL.Path {
		case "POST /v1.51/networks/create":
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"Id":"abc","Warning":""}`)
		case "GET /v1.51/networks":
			_, _ = io.WriteString(w, `[{"Name":"n1","Id":"abc"}]`)
		case "GET /v1.51/networks/n1":
			_, _ = io.WriteString(w, `{"Name":"n1","Id":"abc","Containers":{}}`)
		case "POST /v1.51/networks/prune":
			_, _ = io.WriteString(w, `{"NetworksDeleted":["n1"]}`)
		case "DELETE /v1.51/networks/nope":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"message":"network nope not found"}`)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
	c := d.client(t)
	ctx := context.Background()

	resp, err := c.NetworkCreate(ctx, network.CreateRequest{Name: "n1", Driver: "bridge"})
	if err != nil || resp.ID != "abc" {
		t.Fatalf("create: %+v %v", resp, err)
	}
	var sent network.CreateRequest
	if err := json.Unmarshal([]byte(bodies[0][1:]), &sent); err != nil || sent.Name != "n1" {
		t.Errorf("create body %q", bodies[0])
	}
	f := filters.Args{}
	f.Add("name", "n1")
	if nets, err := c.NetworkList(ctx, f); err != nil || len(nets) != 1 || nets[0].ID != "abc" {
		t.Errorf("list: %+v %v", nets, err)
	}
	if n, raw, err := c.NetworkInspect(ctx, "n1", NetworkInspectOptions{Scope: "local"}); err != nil || n.Name != "n1" || len(raw) == 0 {
		t.Errorf("inspect: %+v %v", n, err)
	}
	if rep, err := c.NetworkPrune(ctx, nil); err != nil || len(rep.NetworksDeleted) != 1 {
		t.Errorf("prune: %+v %v", rep, err)
	}
	if err := c.NetworkConnect(ctx, "n1", "web", &network.EndpointSettings{Aliases: []string{"db"}}); err != nil {
		t.Errorf("connect: %v", err)
	}
	if err := c.NetworkDisconnect(ctx, "n1", "web", true); err != nil {
		t.Errorf("disconnect: %v", err)
	}
	err = c.NetworkRemove(ctx, "nope")
	if !errdefs.IsNotFound(err) || err.Error() != "network nope not found" {
		t.Errorf("rm missing: %v", err)
	}
	if _, _, err := c.NetworkInspect(ctx, "", NetworkInspectOptions{}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("inspect of empty ref: %v", err)
	}

	want := []string{
		`filters={"name":{"n1":true}} `,
		"scope=local ",
		` {"Container":"web","Force":true}`,
	}
	got := strings.Join(bodies, "\n")
	for _, w := range want {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("no request %q among %q", w, bodies)
		}
	}
	if !strings.Contains(got, `{"Container":"web","EndpointConfig":{`) || !strings.Contains(got, `"Aliases":["db"]`) {
		t.Errorf("connect body missing among %q", bodies)
	}
}
