package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// recorder keeps the requests a handler saw.
type recorder struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
}

func (r *recorder) add(req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.bodies = append(r.bodies, string(body))
	r.mu.Unlock()
}

func (r *recorder) last(t *testing.T) (*http.Request, string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no request")
	}
	return r.reqs[len(r.reqs)-1], r.bodies[len(r.bodies)-1]
}

func TestContainerCalls(t *testing.T) {
	var rec recorder
	d := newFakeDaemon(t, "1.51", func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		switch r.Method + " " + r.URL.Path {
		case "POST /v1.51/containers/create":
			writeJSON(w, 201, container.CreateResponse{ID: "abc", Warnings: []string{"w1"}})
		case "POST /v1.51/containers/abc/start":
			w.WriteHeader(304)
		case "POST /v1.51/containers/abc/stop", "POST /v1.51/containers/abc/kill", "DELETE /v1.51/containers/abc":
			w.WriteHeader(204)
		case "GET /v1.51/containers/json":
			writeJSON(w, 200, []container.Summary{{ID: "abc", Names: []string{"/web"}}})
		case "GET /v1.51/containers/abc/json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"Id":"abc","Config":{"Tty":true},"State":{"Running":true},"NetworkSettings":{"Ports":{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}},"Extra":1}`)
		case "GET /v1.51/containers/nope/json":
			writeJSON(w, 404, map[string]string{"message": "No such container: nope"})
		case "HEAD /v1.51/containers/abc/archive", "GET /v1.51/containers/abc/archive":
			stat, _ := json.Marshal(container.PathStat{Name: "hosts", Size: 42, Mode: 0o644})
			w.Header().Set(PathStatHeader, base64.StdEncoding.EncodeToString(stat))
			_, _ = io.WriteString(w, "TAR")
		case "PUT /v1.51/containers/abc/archive", "POST /v1.51/commit":
			writeJSON(w, 200, map[string]string{"Id": "sha256:img"})
		default:
			writeJSON(w, 404, map[string]string{"message": "unexpected " + r.Method + " " + r.URL.Path})
		}
	})
	c := d.client(t)
	ctx := context.Background()

	resp, err := c.ContainerCreate(ctx, &container.Config{Image: "busybox", Cmd: []string{"true"}},
		&container.HostConfig{NetworkMode: "default"}, &network.NetworkingConfig{},
		&ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, "web")
	if err != nil || resp.ID != "abc" || len(resp.Warnings) != 1 {
		t.Fatalf("create: %+v %v", resp, err)
	}
	req, body := rec.last(t)
	if req.URL.RawQuery != "name=web&platform=linux%2Farm64%2Fv8" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("create query %q", req.URL.RawQuery)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(body), &sent); err != nil || sent["Image"] != "busybox" || sent["HostConfig"].(map[string]any)["NetworkMode"] != "default" {
		t.Errorf("create body %s", body)
	}

	if err := c.ContainerStart(ctx, "abc", StartOptions{}); err != nil {
		t.Errorf("start of a running container (304) must succeed: %v", err)
	}
	ten := 10
	if err := c.ContainerStop(ctx, "abc", StopOptions{Signal: "SIGINT", Timeout: &ten}); err != nil {
		t.Fatal(err)
	}
	if req, _ := rec.last(t); req.URL.RawQuery != "signal=SIGINT&t=10" {
		t.Errorf("stop query %q", req.URL.RawQuery)
	}
	if err := c.ContainerKill(ctx, "abc", "HUP"); err != nil {
		t.Fatal(err)
	}
	if req, _ := rec.last(t); req.URL.RawQuery != "signal=HUP" {
		t.Errorf("kill query %q", req.URL.RawQuery)
	}
	if err := c.ContainerRemove(ctx, "abc", RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		t.Fatal(err)
	}
	if req, _ := rec.last(t); req.URL.RawQuery != "force=1&v=1" {
		t.Errorf("remove query %q", req.URL.RawQuery)
	}

	f := filters.Args{}
	f.Add("status", "exited")
	list, err := c.ContainerList(ctx, ListOptions{All: true, Limit: 3, Size: true, Filters: f})
	if err != nil || len(list) != 1 || list[0].Names[0] != "/web" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if req, _ := rec.last(t); req.URL.RawQuery != "all=1&filters=%7B%22status%22%3A%7B%22exited%22%3Atrue%7D%7D&limit=3&size=1" {
		t.Errorf("list query %q", req.URL.RawQuery)
	}

	info, raw, err := c.ContainerInspect(ctx, "abc", true)
	if err != nil || !info.Config.Tty || !info.State.Running || !strings.Contains(string(raw), `"Extra":1`) {
		t.Fatalf("inspect: %+v %s %v", info, raw, err)
	}
	if ports := info.NetworkSettings.Ports[network.MustParsePort("80/tcp")]; len(ports) != 1 || ports[0].HostPort != "8080" || ports[0].HostIP.String() != "0.0.0.0" {
		t.Errorf("ports %+v", info.NetworkSettings.Ports)
	}
	if req, _ := rec.last(t); req.URL.RawQuery != "size=1" {
		t.Errorf("inspect query %q", req.URL.RawQuery)
	}
	if _, _, err := c.ContainerInspect(ctx, "nope", false); !errdefs.IsNotFound(err) || err.Error() != "No such container: nope" {
		t.Errorf("missing: %v", err)
	}
	if _, _, err := c.ContainerInspect(ctx, "", false); !errdefs.IsInvalidArgument(err) {
		t.Errorf("empty id: %v", err)
	}

	st, err := c.ContainerStatPath(ctx, "abc", "/etc/hosts")
	if err != nil || st.Name != "hosts" || st.Size != 42 {
		t.Fatalf("stat: %+v %v", st, err)
	}
	rc, st, err := c.CopyFromContainer(ctx, "abc", "/etc/hosts")
	if err != nil || st.Name != "hosts" {
		t.Fatalf("copy from: %v", err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "TAR" {
		t.Errorf("archive %q", data)
	}
	if err := c.CopyToContainer(ctx, "abc", "/tmp", strings.NewReader("UPLOAD"), CopyToContainerOptions{CopyUIDGID: true}); err != nil {
		t.Fatal(err)
	}
	req, body = rec.last(t)
	if req.URL.RawQuery != "copyUIDGID=true&noOverwriteDirNonDir=true&path=%2Ftmp" || body != "UPLOAD" || req.Header.Get("Content-Type") != "application/x-tar" {
		t.Errorf("copy to: %q %q", req.URL.RawQuery, body)
	}

	id, err := c.ContainerCommit(ctx, "abc", CommitOptions{Reference: "me/app", Comment: "msg", Author: "A", Changes: []string{"ENV A=1", "CMD sh"}})
	if err != nil || id.ID != "sha256:img" {
		t.Fatalf("commit: %v", err)
	}
	if req, _ := rec.last(t); req.URL.RawQuery != "author=A&changes=ENV+A%3D1&changes=CMD+sh&comment=msg&container=abc&pause=0&repo=me%2Fapp&tag=latest" {
		t.Errorf("commit query %q", req.URL.RawQuery)
	}
	if _, err := c.ContainerCommit(ctx, "abc", CommitOptions{Reference: "me/app@sha256:" + strings.Repeat("a", 64)}); err == nil {
		t.Error("commit to a digest must fail")
	}
}

// hijackHandler answers an upgrade request like the daemon, then runs serve on the raw
// connection.
func hijackHandler(t *testing.T, status string, serve func(rw *bufio.ReadWriter)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Connection") != "Upgrade" || r.Header.Get("Upgrade") != "tcp" {
			t.Errorf("missing upgrade headers: %v", r.Header)
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 " + status + "\r\nContent-Type: " + MediaTypeMultiplexedStream + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		_ = rw.Flush()
		serve(rw)
	}
}

func TestAttachHijack(t *testing.T) {
	for _, status := range []string{"101 UPGRADED", "200 OK"} {
		t.Run(status, func(t *testing.T) {
			var query string
			d := newFakeDaemon(t, "1.51", func(w http.ResponseWriter, r *http.Request) {
				query = r.URL.RawQuery
				hijackHandler(t, status, func(rw *bufio.ReadWriter) {
					// Echo stdin back as stdout frames until the client half-closes.
					_, _ = rw.Write(MuxFrame(StreamStderr, []byte("ready\n")))
					_ = rw.Flush()
					in, _ := io.ReadAll(rw)
					_, _ = rw.Write(MuxFrame(StreamStdout, in))
					_ = rw.Flush()
				})(w, r)
			})
			c := d.client(t)
			resp, err := c.ContainerAttach(context.Background(), "abc", AttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true, DetachKeys: "ctrl-x"})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Close()
			if query != "detachKeys=ctrl-x&stderr=1&stdin=1&stdout=1&stream=1" {
				t.Errorf("query %q", query)
			}
			if m, ok := resp.Multiplexed(); !m || !ok {
				t.Errorf("media type %q", resp.MediaType)
			}
			if _, err := io.WriteString(resp.Conn, "ping"); err != nil {
				t.Fatal(err)
			}
			if err := resp.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			if _, err := DemuxStream(&out, &errOut, resp.Reader); err != nil {
				t.Fatal(err)
			}
			if out.String() != "ping" || errOut.String() != "ready\n" {
				t.Errorf("out %q err %q", out.String(), errOut.String())
			}
		})
	}
}

func TestHijackRefused(t *testing.T) {
	d := newFakeDaemon(t, "1.51", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 409, map[string]string{"message": "container abc is not running"})
	})
	_, err := d.client(t).ContainerAttach(context.Background(), "abc", AttachOptions{Stream: true})
	if !errdefs.IsConflict(err) || err.Error() != "container abc is not running" {
		t.Fatalf("err %v", err)
	}

	c, err := New("unix://"+t.TempDir()+"/none.sock", WithVersion("1.51"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerAttach(context.Background(), "abc", AttachOptions{}); !IsConnectionError(err) {
		t.Fatalf("no daemon: %v", err)
	}
}

func TestExecStart(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	d := newFakeDaemon(t, "1.51", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+strings.TrimSpace(string(body)))
		mu.Unlock()
		switch r.URL.Path {
		case "/v1.51/containers/abc/exec":
			writeJSON(w, 201, map[string]string{"Id": "e1"})
		case "/v1.51/exec/e1/json":
			writeJSON(w, 200, map[string]any{"ID": "e1", "Running": false, "ExitCode": 7})
		case "/v1.51/exec/e1/start":
			var req container.ExecStartRequest
			_ = json.Unmarshal(body, &req)
			if req.Detach {
				w.WriteHeader(200)
				return
			}
			hijackHandler(t, "101 UPGRADED", func(rw *bufio.ReadWriter) {
				_, _ = rw.Write(MuxFrame(StreamStdout, []byte("out")))
				_ = rw.Flush()
			})(w, r)
		}
	})
	c := d.client(t)
	ctx := context.Background()
	created, err := c.ExecCreate(ctx, "abc", container.ExecCreateRequest{Cmd: []string{"ls"}, AttachStdout: true})
	if err != nil || created.ID != "e1" {
		t.Fatalf("create %v", err)
	}
	if r, err := c.ExecStart(ctx, "e1", container.ExecStartRequest{Detach: true}); err != nil || r.Conn != nil {
		t.Fatalf("detached start: %v", err)
	}
	resp, err := c.ExecStart(ctx, "e1", container.ExecStartRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = DemuxStream(&out, nil, resp.Reader)
	resp.Close()
	if err != nil || out.String() != "out" {
		t.Fatalf("exec output %q %v", out.String(), err)
	}
	info, err := c.ExecInspect(ctx, "e1")
	if err != nil || info.ExitCode == nil || *info.ExitCode != 7 {
		t.Fatalf("inspect %+v %v", info, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(bodies[0], `POST /v1.51/containers/abc/exec {"User":"","Privileged":false,"Tty":false,"AttachStdin":false,"AttachStderr":false,"AttachStdout":true`) ||
		bodies[1] != `POST /v1.51/exec/e1/start {"Detach":true,"Tty":false}` {
		t.Errorf("bodies %q", bodies)
	}
}

func TestContainerWait(t *testing.T) {
	exit, never := make(chan struct{}), make(chan struct{})
	var query string
	d := newFakeDaemon(t, "1.51", func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		switch r.URL.Path {
		case "/v1.51/containers/abc/wait", "/v1.51/containers/forever/wait":
			release := exit
			if strings.Contains(r.URL.Path, "forever") {
				release = never
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			_, _ = io.WriteString(w, `{"StatusCode":3}`)
		case "/v1.51/containers/bad/wait":
			writeJSON(w, 200, container.WaitResponse{StatusCode: 0, Error: &container.WaitExitError{Message: "boom"}})
		default:
			writeJSON(w, 404, map[string]string{"message": "No such container: x"})
		}
	})
	c := d.client(t)
	ctx := context.Background()

	start := time.Now()
	resultC, errC := c.ContainerWait(ctx, "abc", container.WaitConditionNextExit)
	if time.Since(start) > time.Second {
		t.Error("ContainerWait must return once the daemon acknowledged the wait")
	}
	if query != "condition=next-exit" {
		t.Errorf("query %q", query)
	}
	select {
	case <-resultC:
		t.Fatal("result before exit")
	case <-time.After(50 * time.Millisecond):
	}
	close(exit)
	select {
	case r := <-resultC:
		if r.StatusCode != 3 {
			t.Errorf("status %d", r.StatusCode)
		}
	case err := <-errC:
		t.Fatal(err)
	}

	resultC, _ = c.ContainerWait(ctx, "bad", "")
	if r := <-resultC; r.Error == nil || r.Error.Message != "boom" {
		t.Errorf("wait error %+v", r)
	}
	_, errC = c.ContainerWait(ctx, "x", "")
	if err := <-errC; !errdefs.IsNotFound(err) {
		t.Errorf("missing %v", err)
	}

	// Cancelling ends a pending wait with the context's error.
	cctx, cancel := context.WithCancel(ctx)
	_, errC = c.ContainerWait(cctx, "forever", container.WaitConditionRemoved)
	cancel()
	if err := <-errC; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestTimestamp(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for in, want := range map[string]string{
		"":                          "",
		"10m":                       "1714978689",
		"1700000000":                "1700000000",
		"1700000000.5":              "1700000000.5",
		"2024-05-06T07:00:00Z":      "1714978800.000000000",
		"2024-05-06T07:00:00+02:00": "1714971600.000000000",
		"2024-05-06T07:00:00.25Z":   "1714978800.250000000",
		"2024-05-06":                "1714953600.000000000",
		"2024-05-06T07":             "1714978800.000000000",
	} {
		got, err := Timestamp(in, now)
		if err != nil || got != want {
			t.Errorf("Timestamp(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Timestamp("yesterday", now); err == nil || err.Error() != `failed to parse value as time or duration: "yesterday"` {
		t.Errorf("bad value: %v", err)
	}
}
