package command

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/client"
	"github.com/moby/moby/api/types/container"
)

// inspectJSON is a container as GET /containers/{id}/json describes it.
func inspectJSON(id, name string, tty, running bool) string {
	return `{"Id":"` + id + `","Name":"/` + name + `","State":{"Status":"running","Running":` + boolStr(running) +
		`},"Config":{"Tty":` + boolStr(tty) + `,"OpenStdin":true},"HostConfig":{"AutoRemove":false},` +
		`"NetworkSettings":{"Ports":{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}],"53/udp":[{"HostIp":"127.0.0.1","HostPort":"5353"}],"9000/tcp":null}}}`
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func hijack(t *testing.T, w http.ResponseWriter, serve func(rw *bufio.ReadWriter)) {
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	_, _ = rw.WriteString("HTTP/1.1 101 UPGRADED\r\nContent-Type: " + client.MediaTypeMultiplexedStream + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	_ = rw.Flush()
	go func() {
		defer conn.Close()
		serve(rw)
		_ = rw.Flush()
	}()
}

func TestExec(t *testing.T) {
	d := newFakeDaemon(t)
	var createBody container.ExecCreateRequest
	d.handle("GET /containers/web/json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, inspectJSON(runID, "web", false, true))
	})
	d.handle("GET /containers/gone/json", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 404, map[string]string{"message": "No such container: gone"})
	})
	d.handle("POST /containers/web/exec", func(w http.ResponseWriter, r *http.Request) {
		createBody = container.ExecCreateRequest{}
		_ = json.NewDecoder(r.Body).Decode(&createBody)
		sendJSON(w, 201, map[string]string{"Id": "exec1"})
	})
	d.handle("POST /exec/exec1/start", func(w http.ResponseWriter, r *http.Request) {
		var start container.ExecStartRequest
		_ = json.NewDecoder(r.Body).Decode(&start)
		if start.Detach {
			w.WriteHeader(200)
			return
		}
		hijack(t, w, func(rw *bufio.ReadWriter) {
			in := ""
			if createBody.AttachStdin {
				b, _ := io.ReadAll(rw)
				in = string(b)
			}
			_, _ = rw.Write(client.MuxFrame(client.StreamStdout, []byte("out:"+in)))
			_, _ = rw.Write(client.MuxFrame(client.StreamStderr, []byte("err\n")))
		})
	})
	d.handle("GET /exec/exec1/json", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, map[string]any{"ID": "exec1", "Running": false, "ExitCode": 5})
	})

	envFile := filepath.Join(t.TempDir(), "env")
	_ = os.WriteFile(envFile, []byte("FROM_FILE=1\n"), 0o644)
	res := d.run(t, "typed", "exec", "-i", "-e", "A=1", "--env-file", envFile, "-u", "nobody", "-w", "/tmp", "--privileged", "web", "sh", "-c", "cat; exit 5")
	if res.code != 5 || res.stdout != "out:typed" || res.stderr != "err\n" {
		t.Fatalf("exec: %+v", res)
	}
	if !createBody.AttachStdin || !createBody.AttachStdout || createBody.User != "nobody" || createBody.WorkingDir != "/tmp" ||
		!createBody.Privileged || strings.Join(createBody.Env, ",") != "FROM_FILE=1,A=1" || strings.Join(createBody.Cmd, " ") != "sh -c cat; exit 5" {
		t.Errorf("exec create %+v", createBody)
	}
	res = d.run(t, "", "exec", "-d", "web", "sleep", "1")
	if res.code != 0 || res.stdout != "" || createBody.AttachStdout {
		t.Errorf("exec -d: %+v %+v", res, createBody)
	}
	res = d.run(t, "", "exec", "gone", "ls")
	if res.code != 1 || res.stderr != "Error response from daemon: No such container: gone\n" {
		t.Errorf("missing container: %+v", res)
	}
	res = d.run(t, "", "exec", "-it", "web", "sh")
	if res.code != 1 || res.stderr != "the input device is not a TTY\n" {
		t.Errorf("exec -it: %+v", res)
	}
}

func TestLogsAndAttach(t *testing.T) {
	d := newFakeDaemon(t)
	tty := false
	d.handle("GET /containers/web/json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, inspectJSON(runID, "web", tty, true))
	})
	d.handle("GET /containers/"+runID+"/json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, inspectJSON(runID, "web", tty, true))
	})
	d.handle("GET /containers/"+runID+"/logs", func(w http.ResponseWriter, r *http.Request) {
		if tty {
			_, _ = io.WriteString(w, "raw log\r\n")
			return
		}
		_, _ = w.Write(client.MuxFrame(client.StreamStdout, []byte("line 1\n")))
		_, _ = w.Write(client.MuxFrame(client.StreamStderr, []byte("oops\n")))
	})
	res := d.run(t, "", "logs", "-f", "-t", "--tail", "5", "--since", "1700000000", "--details", "web")
	if res.code != 0 || res.stdout != "line 1\n" || res.stderr != "oops\n" {
		t.Fatalf("logs: %+v", res)
	}
	req, _ := d.last()
	if req.URL.RawQuery != "details=1&follow=1&since=1700000000&stderr=1&stdout=1&tail=5&timestamps=1" {
		t.Errorf("logs query %q", req.URL.RawQuery)
	}
	tty = true
	res = d.run(t, "", "container", "logs", "-n", "all", "web")
	if res.code != 0 || res.stdout != "raw log\r\n" {
		t.Errorf("tty logs: %+v", res)
	}
	res = d.run(t, "", "logs", "--since", "later", "web")
	if res.code != 1 || res.stderr != "invalid value for \"since\": failed to parse value as time or duration: \"later\"\n" {
		t.Errorf("bad since: %+v", res)
	}

	tty = false
	d.handle("POST /containers/"+runID+"/attach", func(w http.ResponseWriter, r *http.Request) {
		hijack(t, w, func(rw *bufio.ReadWriter) {
			_, _ = rw.Write(client.MuxFrame(client.StreamStdout, []byte("attached\n")))
		})
	})
	d.handle("POST /containers/"+runID+"/wait", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, container.WaitResponse{StatusCode: 4})
	})
	res = d.run(t, "", "attach", "--no-stdin", "--sig-proxy=false", "web")
	if res.code != 4 || res.stdout != "attached\n" {
		t.Errorf("attach: %+v", res)
	}
	d.handle("GET /containers/stopped/json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, inspectJSON(runID, "stopped", false, false))
	})
	res = d.run(t, "", "attach", "stopped")
	if res.code != 1 || res.stderr != "You cannot attach to a stopped container, start it first\n" {
		t.Errorf("attach stopped: %+v", res)
	}
}

func TestStartStopRemove(t *testing.T) {
	d := newFakeDaemon(t)
	for _, verb := range []string{"start", "stop", "restart", "kill", "pause", "unpause"} {
		d.handle("POST /containers/a/"+verb, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
		d.handle("POST /containers/b/"+verb, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
		d.handle("POST /containers/bad/"+verb, func(w http.ResponseWriter, r *http.Request) {
			sendJSON(w, 404, map[string]string{"message": "No such container: bad"})
		})
	}
	d.handle("DELETE /containers/a", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	d.handle("DELETE /containers/bad", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 404, map[string]string{"message": "No such container: bad"})
	})

	res := d.run(t, "", "start", "a", "bad", "b")
	if res.code != 1 || res.stdout != "a\nb\n" || res.stderr != "Error response from daemon: No such container: bad\nError: failed to start containers: bad\n" {
		t.Errorf("start: %+v", res)
	}
	res = d.run(t, "", "stop", "-t", "3", "-s", "SIGINT", "a", "bad", "b")
	if res.code != 1 || res.stdout != "a\nb\n" || res.stderr != "Error response from daemon: No such container: bad\n" {
		t.Errorf("stop: %+v", res)
	}
	for _, r := range d.reqs {
		if r.URL.Path == "/v1.51/containers/a/stop" && r.URL.RawQuery != "signal=SIGINT&t=3" {
			t.Errorf("stop query %q", r.URL.RawQuery)
		}
	}
	for _, args := range [][]string{{"restart", "a"}, {"container", "kill", "-s", "HUP", "a"}, {"pause", "a"}, {"unpause", "a"}} {
		if res := d.run(t, "", args...); res.code != 0 || res.stdout != "a\n" {
			t.Errorf("%v: %+v", args, res)
		}
	}
	req, _ := d.last()
	if req.URL.Path != "/v1.51/containers/a/unpause" {
		t.Errorf("last %s", req.URL.Path)
	}

	res = d.run(t, "", "rm", "-v", "a", "bad")
	if res.code != 1 || res.stdout != "a\n" || res.stderr != "Error response from daemon: No such container: bad\n" {
		t.Errorf("rm: %+v", res)
	}
	res = d.run(t, "", "container", "remove", "-f", "bad", "a")
	if res.code != 0 || res.stdout != "a\n" || res.stderr != "" {
		t.Errorf("rm -f missing: %+v", res)
	}
	req, _ = d.last()
	if req.URL.RawQuery != "force=1" {
		t.Errorf("rm -f query %q", req.URL.RawQuery)
	}
}

func TestPsAndWait(t *testing.T) {
	d := newFakeDaemon(t)
	now := time.Now()
	d.handle("GET /containers/json", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, []container.Summary{{
			ID: runID, Names: []string{"/web"}, Image: "busybox", Command: "sleep 1000000000000000", Created: now.Add(-2 * time.Minute).Unix(),
			State: "running", Status: "Up 2 minutes", SizeRw: 12, SizeRootFs: 4261352,
		}})
	})
	res := d.run(t, "", "ps")
	want := "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS     NAMES\n" +
		"c0ffee00c0ff   busybox   \"sleep 1000000000000…\"   2 minutes ago   Up 2 minutes             web\n"
	if res.code != 0 || res.stdout != want {
		t.Fatalf("ps:\n%s\nwant:\n%s", res.stdout, want)
	}
	req, _ := d.last()
	if req.URL.RawQuery != "" {
		t.Errorf("ps query %q", req.URL.RawQuery)
	}
	res = d.run(t, "", "container", "ls", "-a", "-n", "2", "-s", "--filter", "status=exited", "--no-trunc")
	if !strings.Contains(res.stdout, "SIZE\n") || !strings.Contains(res.stdout, runID) || !strings.Contains(res.stdout, "12B (virtual 4.26MB)") {
		t.Errorf("ps -as: %q", res.stdout)
	}
	req, _ = d.last()
	if q := req.URL.Query(); q.Get("all") != "1" || q.Get("limit") != "2" || q.Get("size") != "1" || q.Get("filters") != `{"status":{"exited":true}}` {
		t.Errorf("ps query %q", req.URL.RawQuery)
	}
	res = d.run(t, "", "ps", "-l", "-q")
	req, _ = d.last()
	if res.stdout != "c0ffee00c0ff\n" || req.URL.RawQuery != "limit=1" {
		t.Errorf("ps -lq: %q %q", res.stdout, req.URL.RawQuery)
	}
	res = d.run(t, "", "container", "ps", "--format", "{{.Names}} {{.Size}}")
	req, _ = d.last()
	if res.stdout != "web 12B (virtual 4.26MB)\n" || req.URL.RawQuery != "size=1" {
		t.Errorf("ps --format .Size: %q %q", res.stdout, req.URL.RawQuery)
	}

	d.handle("POST /containers/a/wait", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, container.WaitResponse{StatusCode: 0})
	})
	d.handle("POST /containers/b/wait", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, container.WaitResponse{StatusCode: 137})
	})
	res = d.run(t, "", "wait", "a", "nope", "b")
	if res.code != 1 || res.stdout != "0\n137\n" || res.stderr != "Error response from daemon: page not found\n" {
		t.Errorf("wait: %+v", res)
	}
}

func TestInspectPortTopDiff(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("GET /containers/web/json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, inspectJSON(runID, "web", false, true))
	})
	d.handle("GET /containers/busybox/json", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 404, map[string]string{"message": "No such container: busybox"})
	})
	d.handle("GET /images/busybox/json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"Id":"sha256:img"}`)
	})
	res := d.run(t, "", "inspect", "-f", "{{.Id}}", "web", "busybox")
	if res.code != 0 || res.stdout != runID+"\nsha256:img\n" {
		t.Errorf("generic inspect: %+v", res)
	}
	res = d.run(t, "", "inspect", "--type", "container", "-s", "-f", "{{.ID}}", "web")
	req, _ := d.last()
	if res.stdout != runID+"\n" || req.URL.RawQuery != "size=1" {
		t.Errorf("--type container -s: %+v %q", res, req.URL.RawQuery)
	}
	res = d.run(t, "", "container", "inspect", "--size", "web")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "[\n    {\n        \"Id\": \""+runID+"\",") {
		t.Errorf("container inspect: %+v", res)
	}
	res = d.run(t, "", "container", "inspect", "busybox")
	if res.code != 1 || res.stderr != "Error response from daemon: No such container: busybox\n" {
		t.Errorf("container inspect of an image: %+v", res)
	}

	res = d.run(t, "", "port", "web")
	if res.code != 0 || res.stdout != "53/udp -> 127.0.0.1:5353\n80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n" {
		t.Errorf("port: %+v", res)
	}
	res = d.run(t, "", "port", "web", "80")
	if res.stdout != "0.0.0.0:8080\n[::]:8080\n" {
		t.Errorf("port 80: %+v", res)
	}
	res = d.run(t, "", "port", "web", "9000/tcp")
	if res.code != 1 || res.stderr != "Error: No public port '9000/tcp' published for web\n" {
		t.Errorf("unpublished port: %+v", res)
	}

	d.handle("GET /containers/web/top", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, container.TopResponse{Titles: []string{"UID", "PID", "CMD"}, Processes: [][]string{{"root", "1", "sleep 60"}}})
	})
	res = d.run(t, "", "top", "web", "-o", "pid,cmd")
	req, _ = d.last()
	if res.stdout != "UID                 PID                 CMD\nroot                1                   sleep 60\n" || req.URL.Query().Get("ps_args") != "-o pid,cmd" {
		t.Errorf("top: %q %q", res.stdout, req.URL.RawQuery)
	}
	d.handle("GET /containers/web/changes", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, []map[string]any{{"Kind": 0, "Path": "/etc"}, {"Kind": 1, "Path": "/etc/new"}, {"Kind": 2, "Path": "/tmp/x"}})
	})
	res = d.run(t, "", "diff", "web")
	if res.stdout != "C /etc\nA /etc/new\nD /tmp/x\n" {
		t.Errorf("diff: %q", res.stdout)
	}
}

func TestRenamePruneCommitUpdateExport(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("POST /containers/web/rename", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	d.handle("POST /containers/taken/rename", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 409, map[string]string{"message": "Conflict. The container name \"/db\" is already in use"})
	})
	res := d.run(t, "", "rename", "web", "front")
	req, _ := d.last()
	if res.code != 0 || req.URL.RawQuery != "name=front" {
		t.Errorf("rename: %+v", res)
	}
	res = d.run(t, "", "rename", "taken", "db")
	if res.code != 1 || res.stderr != "Error response from daemon: Conflict. The container name \"/db\" is already in use\nError: failed to rename container named taken\n" {
		t.Errorf("rename conflict: %+v", res)
	}

	d.handle("POST /containers/prune", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, container.PruneReport{ContainersDeleted: []string{"aaa", "bbb"}, SpaceReclaimed: 2048})
	})
	res = d.run(t, "y\n", "container", "prune", "--filter", "until=1h")
	want := "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] Deleted Containers:\naaa\nbbb\n\nTotal reclaimed space: 2.048kB\n"
	req, _ = d.last()
	if res.code != 0 || res.stdout != want || req.URL.Query().Get("filters") != `{"until":{"1h":true}}` {
		t.Errorf("prune: %q", res.stdout)
	}
	n := len(d.reqs)
	res = d.run(t, "n\n", "container", "prune")
	if res.code != 0 || len(d.reqs) != n {
		t.Errorf("declined prune: %+v", res)
	}

	d.handle("POST /commit", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 201, map[string]string{"Id": "sha256:new"})
	})
	res = d.run(t, "", "commit", "-a", "me", "-m", "msg", "-c", "ENV A=1", "-p=false", "web", "app:v2")
	req, _ = d.last()
	if res.code != 0 || res.stdout != "sha256:new\n" ||
		req.URL.RawQuery != "author=me&changes=ENV+A%3D1&comment=msg&container=web&pause=0&repo=app&tag=v2" {
		t.Errorf("commit: %+v %q", res, req.URL.RawQuery)
	}

	d.handle("POST /containers/web/update", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, container.UpdateResponse{Warnings: []string{"swap limit ignored"}})
	})
	res = d.run(t, "", "update", "-m", "256m", "--cpus", "0.5", "--pids-limit", "50", "--restart", "on-failure:2", "web")
	_, body := d.last()
	var upd container.UpdateConfig
	_ = json.Unmarshal([]byte(body), &upd)
	if res.code != 0 || res.stdout != "web\nswap limit ignored\n" || upd.Memory != 256<<20 || upd.NanoCPUs != 5e8 ||
		*upd.PidsLimit != 50 || upd.RestartPolicy.Name != "on-failure" || upd.RestartPolicy.MaximumRetryCount != 2 {
		t.Errorf("update: %+v %s", res, body)
	}
	res = d.run(t, "", "update", "web")
	if res.code != 1 || res.stderr != "you must provide one or more flags when using this command\n" {
		t.Errorf("update without flags: %+v", res)
	}

	d.handle("GET /containers/web/export", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ROOTFS-TAR") })
	res = d.run(t, "", "export", "web")
	if res.stdout != "ROOTFS-TAR" {
		t.Errorf("export: %+v", res)
	}
	out := filepath.Join(t.TempDir(), "fs.tar")
	res = d.run(t, "", "container", "export", "-o", out, "web")
	if data, err := os.ReadFile(out); res.code != 0 || err != nil || string(data) != "ROOTFS-TAR" {
		t.Errorf("export -o: %+v %q", res, data)
	}
}

func TestStatsNoStream(t *testing.T) {
	d := newFakeDaemon(t)
	sample := container.StatsResponse{
		ID: runID, Name: "/web",
		CPUStats:    container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 2e9}, SystemUsage: 20e9, OnlineCPUs: 4},
		PreCPUStats: container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 1e9}, SystemUsage: 10e9},
		MemoryStats: container.MemoryStats{Usage: 3 << 20, Limit: 1 << 30},
		PidsStats:   container.PidsStats{Current: 2},
	}
	d.handle("GET /containers/json", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, []container.Summary{{ID: runID, Names: []string{"/web"}}})
	})
	d.handle("GET /containers/"+runID+"/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("stream") != "0" {
			t.Errorf("stats query %q", r.URL.RawQuery)
		}
		sendJSON(w, 200, sample)
	})
	d.handle("GET /containers/gone/stats", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 404, map[string]string{"message": "No such container: gone"})
	})
	res := d.run(t, "", "stats", "--no-stream")
	want := "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS\n" +
		"c0ffee00c0ff   web       40.00%    3MiB / 1GiB         0.29%     0B / 0B   0B / 0B     2\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("stats:\n%s\nwant:\n%s\n%s", res.stdout, want, res.stderr)
	}
	res = d.run(t, "", "container", "stats", "--no-stream", "--format", "{{.Container}}: {{.CPUPerc}} {{.PIDs}}", runID)
	if res.stdout != runID+": 40.00% 2\n" {
		t.Errorf("stats --format: %+v", res)
	}
	res = d.run(t, "", "stats", "--no-stream", "gone")
	if res.code != 1 || res.stderr != "Error response from daemon: No such container: gone\n" {
		t.Errorf("stats of a missing container: %+v", res)
	}
}

func tarOf(t *testing.T, entries map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"etc/", "etc/hosts", "etc/sub/", "etc/sub/x", "hosts"} {
		body, ok := entries[name]
		if !ok {
			continue
		}
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}
		if strings.HasSuffix(name, "/") {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(tw, body)
	}
	_ = tw.Close()
	return buf.Bytes()
}

func statHeader(name string, mode os.FileMode) string {
	raw, _ := json.Marshal(container.PathStat{Name: name, Mode: mode})
	return base64.StdEncoding.EncodeToString(raw)
}

func TestCopy(t *testing.T) {
	d := newFakeDaemon(t)
	fileTar := tarOf(t, map[string]string{"hosts": "127.0.0.1 localhost\n"})
	dirTar := tarOf(t, map[string]string{"etc/": "", "etc/hosts": "h\n", "etc/sub/": "", "etc/sub/x": "x\n"})
	d.handle("GET /containers/web/archive", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("path") {
		case "/etc/hosts":
			w.Header().Set(client.PathStatHeader, statHeader("hosts", 0o644))
			_, _ = w.Write(fileTar)
		case "/etc":
			w.Header().Set(client.PathStatHeader, statHeader("etc", os.ModeDir|0o755))
			_, _ = w.Write(dirTar)
		default:
			sendJSON(w, 404, map[string]string{"message": "Could not find the file " + r.URL.Query().Get("path") + " in container web"})
		}
	})
	var uploaded []byte
	var uploadQuery string
	d.handle("HEAD /containers/web/archive", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("path") {
		case "/tmp":
			w.Header().Set(client.PathStatHeader, statHeader("tmp", os.ModeDir|0o1777))
		case "/tmp/file":
			w.Header().Set(client.PathStatHeader, statHeader("file", 0o644))
		default:
			w.WriteHeader(404)
		}
	})
	d.handle("PUT /containers/web/archive", func(w http.ResponseWriter, r *http.Request) {
		uploaded, _ = io.ReadAll(r.Body)
		uploadQuery = r.URL.RawQuery
	})

	dir := t.TempDir()
	res := d.run(t, "", "cp", "web:/etc/hosts", dir)
	if data, err := os.ReadFile(filepath.Join(dir, "hosts")); res.code != 0 || err != nil || string(data) != "127.0.0.1 localhost\n" {
		t.Fatalf("cp file into dir: %+v %q %v", res, data, err)
	}
	res = d.run(t, "", "cp", "web:/etc/hosts", filepath.Join(dir, "renamed"))
	if data, _ := os.ReadFile(filepath.Join(dir, "renamed")); res.code != 0 || string(data) != "127.0.0.1 localhost\n" {
		t.Errorf("cp file to new name: %+v", res)
	}
	res = d.run(t, "", "cp", "web:/etc", filepath.Join(dir, "copy"))
	if data, _ := os.ReadFile(filepath.Join(dir, "copy", "sub", "x")); res.code != 0 || string(data) != "x\n" {
		t.Errorf("cp dir to new dir: %+v", res)
	}
	res = d.run(t, "", "cp", "web:/etc", dir)
	if data, _ := os.ReadFile(filepath.Join(dir, "etc", "hosts")); res.code != 0 || string(data) != "h\n" {
		t.Errorf("cp dir into dir: %+v", res)
	}
	res = d.run(t, "", "cp", "web:/etc", filepath.Join(dir, "hosts"))
	if res.code != 1 || res.stderr != "cannot copy directory\n" {
		t.Errorf("cp dir onto file: %+v", res)
	}
	res = d.run(t, "", "cp", "web:/etc/hosts", "-")
	if res.code != 0 || res.stdout != string(fileTar) {
		t.Errorf("cp to stdout: %d bytes", len(res.stdout))
	}
	res = d.run(t, "", "cp", "web:/nope", dir)
	if res.code != 1 || res.stderr != "Error response from daemon: Could not find the file /nope in container web\n" {
		t.Errorf("cp missing: %+v", res)
	}

	// Local to container.
	src := filepath.Join(dir, "src")
	_ = os.MkdirAll(filepath.Join(src, "inner"), 0o755)
	_ = os.WriteFile(filepath.Join(src, "a.txt"), []byte("A"), 0o600)
	_ = os.WriteFile(filepath.Join(src, "inner", "b.txt"), []byte("BB"), 0o644)
	res = d.run(t, "", "cp", "-a", src, "web:/tmp")
	if res.code != 0 || uploadQuery != "copyUIDGID=true&noOverwriteDirNonDir=true&path=%2Ftmp" {
		t.Fatalf("cp dir to container: %+v %q", res, uploadQuery)
	}
	if got := tarNames(t, uploaded); got != "src/,src/a.txt,src/inner/,src/inner/b.txt" {
		t.Errorf("uploaded %s", got)
	}
	res = d.run(t, "", "cp", src+"/.", "web:/tmp")
	if got := tarNames(t, uploaded); res.code != 0 || got != "a.txt,inner/,inner/b.txt" {
		t.Errorf("contents only: %s", got)
	}
	res = d.run(t, "", "cp", filepath.Join(src, "a.txt"), "web:/tmp/file")
	if got := tarNames(t, uploaded); res.code != 0 || got != "file" || uploadQuery != "noOverwriteDirNonDir=true&path=%2Ftmp" {
		t.Errorf("file onto file: %s %q", got, uploadQuery)
	}
	res = d.run(t, "", "cp", filepath.Join(src, "a.txt"), "web:/tmp/new.txt")
	if got := tarNames(t, uploaded); res.code != 0 || got != "new.txt" {
		t.Errorf("file to new name: %s", got)
	}
	res = d.run(t, "TARSTREAM", "cp", "-", "web:/tmp")
	if res.code != 0 || string(uploaded) != "TARSTREAM" {
		t.Errorf("cp from stdin: %+v %q", res, uploaded)
	}
	res = d.run(t, "TARSTREAM", "cp", "-", "web:/tmp/file")
	if res.code != 1 || res.stderr != "destination \"web:/tmp/file\" must be a directory\n" {
		t.Errorf("cp stdin to file: %+v", res)
	}
	for args, msg := range map[string]string{
		"cp a b":         "must specify at least one container source\n",
		"cp a:/x b:/y":   "copying between containers is not supported\n",
		"cp ./x:y /tmp":  "must specify at least one container source\n",
		"cp web: /tmp/x": "source can not be empty\n",
	} {
		if res := d.run(t, "", strings.Fields(args)...); res.code != 1 || res.stderr != msg {
			t.Errorf("%s: %+v", args, res)
		}
	}
}

func TestCopyRefusesEscapes(t *testing.T) {
	d := newFakeDaemon(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "evil/", Typeflag: tar.TypeDir, Mode: 0o755})
	_ = tw.WriteHeader(&tar.Header{Name: "evil/link", Typeflag: tar.TypeSymlink, Linkname: "/"})
	_ = tw.WriteHeader(&tar.Header{Name: "evil/link/pwned", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	_, _ = tw.Write([]byte("x"))
	_ = tw.Close()
	d.handle("GET /containers/web/archive", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(client.PathStatHeader, statHeader("evil", os.ModeDir|0o755))
		_, _ = w.Write(buf.Bytes())
	})
	dir := t.TempDir()
	res := d.run(t, "", "cp", "web:/evil", filepath.Join(dir, "out"))
	if res.code != 1 || !strings.Contains(res.stderr, "through the symbolic link") {
		t.Errorf("escape: %+v", res)
	}
	if _, err := os.Stat("/pwned"); err == nil {
		t.Fatal("wrote outside the destination")
	}
}

func tarNames(t *testing.T, data []byte) string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
	return strings.Join(names, ",")
}
