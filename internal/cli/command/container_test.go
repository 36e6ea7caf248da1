package command

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/client"
	"github.com/moby/moby/api/types/container"
)

const runID = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"

// fakeEngine plays the daemon's side of `run`: create, attach (hijacked), wait, start, and a
// container that writes output, optionally echoes its stdin, and exits.
type fakeEngine struct {
	t *testing.T

	// How the container behaves.
	exitCode   int
	stdout     string
	stderr     string
	echoStdin  bool
	startCode  int    // HTTP status of a failing start (0: start succeeds)
	startError string // its message
	missing    bool   // the image is not there until pulled
	pullCode   int    // HTTP status of a failing pull (0: pull succeeds)

	mu        sync.Mutex
	events    []string
	create    container.CreateRequest
	createQ   string
	waitQ     string
	attachQ   string
	started   chan struct{}
	exited    chan struct{}
	startOnce sync.Once
}

func (e *fakeEngine) event(s string) {
	e.mu.Lock()
	e.events = append(e.events, s)
	e.mu.Unlock()
}

func (e *fakeEngine) eventList() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.events, ",")
}

func (e *fakeEngine) install(d *fakeDaemon) {
	e.started = make(chan struct{})
	e.exited = make(chan struct{})
	d.handle("POST /containers/create", func(w http.ResponseWriter, r *http.Request) {
		e.event("create")
		e.mu.Lock()
		_ = json.NewDecoder(r.Body).Decode(&e.create)
		e.createQ = r.URL.RawQuery
		missing := e.missing
		e.mu.Unlock()
		if missing {
			sendJSON(w, 404, map[string]string{"message": "No such image: " + e.create.Image + ":latest"})
			return
		}
		sendJSON(w, 201, container.CreateResponse{ID: runID, Warnings: []string{}})
	})
	d.handle("POST /images/create", func(w http.ResponseWriter, r *http.Request) {
		e.event("pull " + r.URL.Query().Get("fromImage") + ":" + r.URL.Query().Get("tag"))
		if e.pullCode != 0 {
			sendJSON(w, e.pullCode, map[string]string{"message": "pull access denied for nope, repository does not exist or may require 'docker login'"})
			return
		}
		e.mu.Lock()
		e.missing = false
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"Pulling from library/busybox","id":"latest"}`+"\n"+`{"status":"Status: Downloaded newer image for busybox:latest"}`+"\n")
	})
	d.handle("POST /containers/"+runID+"/attach", func(w http.ResponseWriter, r *http.Request) {
		e.event("attach")
		e.mu.Lock()
		e.attachQ = r.URL.RawQuery
		tty := e.create.Config != nil && e.create.Tty
		e.mu.Unlock()
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			e.t.Error(err)
			return
		}
		media := client.MediaTypeMultiplexedStream
		if tty {
			media = client.MediaTypeRawStream
		}
		_, _ = rw.WriteString("HTTP/1.1 101 UPGRADED\r\nContent-Type: " + media + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		_ = rw.Flush()
		go e.serveAttach(conn, rw, tty)
	})
	d.handle("POST /containers/"+runID+"/wait", func(w http.ResponseWriter, r *http.Request) {
		e.event("wait")
		e.mu.Lock()
		e.waitQ = r.URL.RawQuery
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-e.exited:
			_ = json.NewEncoder(w).Encode(container.WaitResponse{StatusCode: int64(e.exitCode)})
		case <-r.Context().Done():
		}
	})
	d.handle("POST /containers/"+runID+"/start", func(w http.ResponseWriter, r *http.Request) {
		e.event("start")
		if e.startCode != 0 {
			sendJSON(w, e.startCode, map[string]string{"message": e.startError})
			return
		}
		e.startOnce.Do(func() { close(e.started) })
		e.mu.Lock()
		attached := false
		for _, ev := range e.events {
			attached = attached || ev == "attach"
		}
		e.mu.Unlock()
		if !attached {
			close(e.exited)
		}
		w.WriteHeader(204)
	})
}

// serveAttach runs the container's side of the hijacked connection: after start, it writes the
// output (and the stdin it read, when echoing), closes the stream and exits.
func (e *fakeEngine) serveAttach(conn io.Closer, rw *bufio.ReadWriter, tty bool) {
	defer close(e.exited)
	defer conn.Close()
	var input []byte
	if e.echoStdin {
		input, _ = io.ReadAll(rw)
	}
	select {
	case <-e.started:
	case <-time.After(10 * time.Second):
		return
	}
	write := func(stream byte, s string) {
		if s == "" {
			return
		}
		if tty {
			_, _ = rw.WriteString(s)
		} else {
			_, _ = rw.Write(client.MuxFrame(stream, []byte(s)))
		}
	}
	write(client.StreamStdout, e.stdout)
	write(client.StreamStderr, e.stderr)
	write(client.StreamStdout, string(input))
	_ = rw.Flush()
}

func newEngine(t *testing.T, e *fakeEngine) (*fakeDaemon, *fakeEngine) {
	d := newFakeDaemon(t)
	e.t = t
	e.install(d)
	return d, e
}

func TestRunAttachedExitCodes(t *testing.T) {
	d, e := newEngine(t, &fakeEngine{stdout: "hello\n", stderr: "warn\n"})
	res := d.run(t, "", "run", "--name", "web", "busybox", "echo", "hello")
	if res.code != 0 || res.stdout != "hello\n" || res.stderr != "warn\n" {
		t.Fatalf("%+v", res)
	}
	// attach and wait are in place before the container starts.
	if got := e.eventList(); got != "create,attach,wait,start" {
		t.Errorf("events %s", got)
	}
	c := e.create
	if c.Image != "busybox" || strings.Join(c.Cmd, " ") != "echo hello" || c.AttachStdin || !c.AttachStdout || !c.AttachStderr || c.Tty || c.OpenStdin {
		t.Errorf("create config %+v", c.Config)
	}
	if e.createQ != "name=web" || e.waitQ != "condition=next-exit" || e.attachQ != "stderr=1&stdout=1&stream=1" {
		t.Errorf("queries create %q wait %q attach %q", e.createQ, e.waitQ, e.attachQ)
	}

	d, _ = newEngine(t, &fakeEngine{exitCode: 3, stdout: "bye\n"})
	res = d.run(t, "", "container", "run", "busybox", "sh", "-c", "exit 3")
	if res.code != 3 || res.stdout != "bye\n" || res.stderr != "" {
		t.Errorf("exit 3: %+v", res)
	}

	for _, c := range []struct {
		status int
		msg    string
		code   int
	}{
		{400, `failed to create task for container: exec: "nope": executable file not found in $PATH: unknown`, 127},
		{400, `exec /app: no such file or directory`, 127},
		{400, `exec /etc: permission denied`, 126},
		{400, `exec /etc: is a directory`, 126},
		{500, `cgroups: cannot enter cgroup`, 125},
	} {
		d, e := newEngine(t, &fakeEngine{startCode: c.status, startError: c.msg})
		res := d.run(t, "", "run", "busybox", "nope")
		want := "berth: Error response from daemon: " + c.msg + "\n\nRun 'berth run --help' for more information\n"
		if res.code != c.code || res.stderr != want || res.stdout != "" {
			t.Errorf("start failure %q: code %d want %d, stderr %q", c.msg, res.code, c.code, res.stderr)
		}
		if got := e.eventList(); got != "create,attach,wait,start" {
			t.Errorf("events %s", got)
		}
	}
}

func TestRunPullsMissingImage(t *testing.T) {
	d, e := newEngine(t, &fakeEngine{missing: true, pullCode: 404})
	res := d.run(t, "", "run", "nope")
	want := "Unable to find image 'nope:latest' locally\n" +
		"berth: Error response from daemon: pull access denied for nope, repository does not exist or may require 'docker login'\n\n" +
		"Run 'berth run --help' for more information\n"
	if res.code != 125 || res.stderr != want {
		t.Fatalf("pull failure: %+v", res)
	}
	if got := e.eventList(); got != "create,pull docker.io/library/nope:latest" {
		t.Errorf("events %s", got)
	}

	d, e = newEngine(t, &fakeEngine{missing: true, stdout: "ok\n"})
	res = d.run(t, "", "run", "busybox")
	if res.code != 0 || res.stdout != "ok\n" || !strings.HasPrefix(res.stderr, "Unable to find image 'busybox:latest' locally\n") ||
		!strings.Contains(res.stderr, "Status: Downloaded newer image for busybox:latest") {
		t.Fatalf("pull then run: %+v", res)
	}
	if got := e.eventList(); got != "create,pull docker.io/library/busybox:latest,create,attach,wait,start" {
		t.Errorf("events %s", got)
	}

	d, e = newEngine(t, &fakeEngine{missing: true})
	res = d.run(t, "", "run", "--pull", "never", "busybox")
	if res.code != 125 || res.stderr != "berth: Error response from daemon: No such image: busybox:latest\n\nRun 'berth run --help' for more information\n" {
		t.Errorf("--pull never: %+v", res)
	}
	d, e = newEngine(t, &fakeEngine{})
	res = d.run(t, "", "run", "-d", "--pull", "always", "-q", "busybox")
	if res.code != 0 || res.stderr != "" || e.eventList() != "pull docker.io/library/busybox:latest,create,start" {
		t.Errorf("--pull always -q: %+v %s", res, e.eventList())
	}
}

func TestRunDetachedAndStdin(t *testing.T) {
	d, e := newEngine(t, &fakeEngine{})
	cid := filepath.Join(t.TempDir(), "cid")
	res := d.run(t, "", "run", "-d", "--cidfile", cid, "busybox", "sleep", "9")
	if res.code != 0 || res.stdout != runID+"\n" || res.stderr != "" {
		t.Fatalf("-d: %+v", res)
	}
	if got := e.eventList(); got != "create,start" {
		t.Errorf("detached events %s", got)
	}
	if data, err := os.ReadFile(cid); err != nil || string(data) != runID {
		t.Errorf("cidfile %q %v", data, err)
	}
	if c := e.create; c.AttachStdout || c.AttachStderr || c.HostConfig.ContainerIDFile != cid {
		t.Errorf("detached config %+v", c.Config)
	}
	res = d.run(t, "", "run", "-d", "--cidfile", cid, "busybox")
	if res.code != 125 || !strings.Contains(res.stderr, "container ID file found, make sure the other container isn't running or delete "+cid) {
		t.Errorf("existing cidfile: %+v", res)
	}
	res = d.run(t, "", "run", "-d", "-a", "stdout", "busybox")
	if res.code != 1 || res.stderr != "conflicting options: cannot specify both --attach and --detach\n" {
		t.Errorf("-d -a: %+v", res)
	}

	d, e = newEngine(t, &fakeEngine{echoStdin: true, exitCode: 0})
	res = d.run(t, "line one\nline two\n", "run", "-i", "--rm", "busybox", "cat")
	if res.code != 0 || res.stdout != "line one\nline two\n" {
		t.Fatalf("-i: %+v", res)
	}
	if c := e.create; !c.AttachStdin || !c.OpenStdin || !c.StdinOnce || !c.HostConfig.AutoRemove {
		t.Errorf("-i config %+v", c.Config)
	}
	if e.waitQ != "condition=removed" || e.attachQ != "stderr=1&stdin=1&stdout=1&stream=1" {
		t.Errorf("--rm wait %q attach %q", e.waitQ, e.attachQ)
	}

	// A TTY container's output is passed through as is.
	d, e = newEngine(t, &fakeEngine{stdout: "\x01raw\r\n"})
	res = d.run(t, "", "run", "-t", "--detach-keys", "ctrl-x", "busybox")
	if res.code != 0 || res.stdout != "\x01raw\r\n" || !e.create.Tty {
		t.Errorf("-t: %+v", res)
	}
	if e.attachQ != "detachKeys=ctrl-x&stderr=1&stdout=1&stream=1" {
		t.Errorf("detach keys %q", e.attachQ)
	}
	res = d.run(t, "", "run", "-it", "busybox")
	if res.code != 1 || res.stderr != "the input device is not a TTY\n" {
		t.Errorf("-it without a terminal: %+v", res)
	}
}

func TestRunUsageErrors(t *testing.T) {
	var none *fakeDaemon
	for args, stderr := range map[string]string{
		"run -m bad busybox":                 "invalid argument \"bad\" for \"-m, --memory\" flag: invalid size: 'bad'\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n",
		"run -p abc busybox":                 "berth: invalid containerPort: abc\n\nRun 'berth run --help' for more information\n",
		"run --pull x busybox":               "berth: invalid pull option: 'x': must be one of \"always\", \"missing\" or \"never\"\n\nRun 'berth run --help' for more information\n",
		"create -v :/x busybox":              "berth: invalid spec: :/x: empty section between colons\n\nRun 'berth create --help' for more information\n",
		"run busybox":                        "berth: Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is berthd running?\n\nRun 'berth run --help' for more information\n",
		"run --restart=on-failure:x busybox": "berth: invalid restart policy format: maximum retry count must be an integer\n\nRun 'berth run --help' for more information\n",
	} {
		res := none.run(t, "", strings.Fields(args)...)
		if res.code != 125 || res.stderr != stderr {
			t.Errorf("%s: code %d stderr %q", args, res.code, res.stderr)
		}
	}
	res := none.run(t, "", "create", "busybox")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "Cannot connect to the berth daemon") {
		t.Errorf("create without daemon: %+v", res)
	}
	res = none.run(t, "", "run")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "berth: 'berth run' requires at least 1 argument") {
		t.Errorf("no image: %+v", res)
	}
	// Flags after the image belong to the command.
	d, e := newEngine(t, &fakeEngine{})
	res = d.run(t, "", "run", "-d", "busybox", "ls", "-l", "--help")
	if res.code != 0 || strings.Join(e.create.Cmd, " ") != "ls -l --help" {
		t.Errorf("interspersed: %+v %q", res, e.create.Cmd)
	}
	res = d.run(t, "", "create", "-h", "box", "--platform", "linux/amd64", "busybox")
	if res.code != 0 || res.stdout != runID+"\n" || e.create.Hostname != "box" || e.createQ != "platform=linux%2Famd64" {
		t.Errorf("create: %+v %q", res, e.createQ)
	}
}

func TestStartAttached(t *testing.T) {
	d, e := newEngine(t, &fakeEngine{exitCode: 2, stdout: "started\n", echoStdin: true})
	d.handle("GET /containers/web/json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"Id":"`+runID+`","Config":{"Tty":false,"OpenStdin":true},"HostConfig":{"AutoRemove":true}}`)
	})
	res := d.run(t, "abc", "start", "-a", "-i", "web")
	if res.code != 2 || res.stdout != "started\nabc" {
		t.Fatalf("start -ai: %+v", res)
	}
	if got := e.eventList(); got != "attach,wait,start" {
		t.Errorf("events %s", got)
	}
	if e.waitQ != "condition=removed" || e.attachQ != "stderr=1&stdin=1&stdout=1&stream=1" {
		t.Errorf("wait %q attach %q", e.waitQ, e.attachQ)
	}
	res = d.run(t, "", "start", "-a", "web", "other")
	if res.code != 1 || res.stderr != "you cannot start and attach multiple containers at once\n" {
		t.Errorf("two containers: %+v", res)
	}
}
