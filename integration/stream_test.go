package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

// postJSON sends body to path and decodes the reply into out.
func postJSON(t *testing.T, d *harness.Daemon, path string, body, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := d.Do("POST", path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, msg)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// halfClosedStream sends an upgrade request, closes its own write side at once (no stdin, as
// docker-compose v1 does) and returns everything the daemon sends until it closes.
func halfClosedStream(t *testing.T, d *harness.Daemon, path string, body []byte, before func()) string {
	t.Helper()
	conn, err := net.Dial("unix", d.Sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req, _ := http.NewRequest("POST", "http://berth"+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	conn.(*net.UnixConn).CloseWrite()
	if before != nil {
		before()
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	out, _ := io.ReadAll(conn)
	return string(out)
}

// TestStreamsOutliveHalfClose: a client that half-closes right after its request still gets the
// whole output of an attached exec and of an attach, and the exec still runs to its end.
func TestStreamsOutliveHalfClose(t *testing.T) {
	d := harness.Start(t)
	tarball, err := os.ReadFile(harness.Busybox(t, fixture.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	load(t, d, tarball)

	var created struct{ Id string }
	postJSON(t, d, "/v1.41/containers/create?name=halfclose", map[string]any{
		"Image": "busybox", "Cmd": []string{"sleep", "300"}, "HostConfig": map[string]any{"NetworkMode": "none"},
	}, &created)
	postJSON(t, d, "/v1.41/containers/halfclose/start", nil, nil)
	var exec struct{ Id string }
	postJSON(t, d, "/v1.41/containers/halfclose/exec", map[string]any{
		"Cmd": []string{"sh", "-c", "sleep 0.5; echo out-after-sleep"}, "AttachStdin": true, "AttachStdout": true, "AttachStderr": true,
	}, &exec)
	out := halfClosedStream(t, d, "/v1.41/exec/"+exec.Id+"/start", []byte(`{"Detach":false,"Tty":false}`), nil)
	if !strings.Contains(out, "out-after-sleep") || strings.Contains(out, "context canceled") {
		t.Fatalf("exec stream after a half-close: %q", out)
	}

	postJSON(t, d, "/v1.41/containers/create?name=attached", map[string]any{
		"Image": "busybox", "Cmd": []string{"sh", "-c", "sleep 0.5; echo late-output"}, "OpenStdin": true,
		"HostConfig": map[string]any{"NetworkMode": "none"},
	}, &created)
	out = halfClosedStream(t, d, "/v1.41/containers/attached/attach?stream=1&stdin=1&stdout=1&stderr=1", nil, func() {
		postJSON(t, d, "/v1.41/containers/attached/start", nil, nil)
	})
	if !strings.Contains(out, "late-output") {
		t.Fatalf("attach stream after a half-close: %q", out)
	}
}
