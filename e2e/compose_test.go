package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/integration/harness"
)

// composeProject is the acceptance project in testdata/compose/app.
func composeProject(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("testdata", "compose", "app"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// eventually retries check until it returns "" or the timeout passes, then fails with its
// last complaint.
func eventually(t *testing.T, timeout time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// projectLeftovers lists the containers, networks and volumes still labelled with project.
func projectLeftovers(c *cli, project string) string {
	label := "label=com.docker.compose.project=" + project
	var left []string
	for _, args := range [][]string{
		{"ps", "-a", "-q", "--filter", label},
		{"network", "ls", "-q", "--filter", label},
		{"volume", "ls", "-q", "--filter", label},
	} {
		if out := strings.TrimSpace(c.ok(args...)); out != "" {
			left = append(left, args[0]+": "+out)
		}
	}
	return strings.Join(left, "; ")
}

func httpGet(url string) (string, error) {
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestComposeBerth is issue 8's acceptance with berth compose: up -d, ps, logs, exec, port,
// scale, stop/start, config-hash recreation of one service, config, ls, down -v.
func TestComposeBerth(t *testing.T) {
	c := withBusybox(t, harness.Binary(t, "berth"))
	c.dir = composeProject(t)
	const p = "accept"
	compose := func(args ...string) string {
		t.Helper()
		return c.ok(append([]string{"compose", "-p", p}, args...)...)
	}

	compose("up", "-d")
	out := compose("ps")
	for _, svc := range []string{"web", "client", "built"} {
		if !regexp.MustCompile(`(?m)^` + p + `-` + svc + `-1\s+.*\s` + svc + `\s.*Up`).MatchString(out) {
			t.Fatalf("ps lacks a running %s:\n%s", svc, out)
		}
	}
	if !strings.HasPrefix(out, "NAME ") || !strings.Contains(out, "SERVICE") {
		t.Fatalf("ps header:\n%s", out)
	}
	// client started only once web was healthy, and reached it by its service name.
	eventually(t, 20*time.Second, func() string {
		if out := compose("logs", "client"); !strings.Contains(out, "hello from compose") || !strings.Contains(out, "fetched") {
			return "client logs: " + out
		}
		return ""
	})
	if out := compose("logs", "--tail", "1", "built"); !strings.Contains(out, "built | built-by-compose") && !strings.Contains(out, "built-by-compose") {
		t.Fatalf("built service output: %q", out)
	}
	if out := compose("exec", "-T", "web", "sh", "-c", "echo $GREETING; ls /data"); !strings.Contains(out, "from-dotenv") {
		t.Fatalf("exec web (.env interpolation): %q", out)
	}
	port := strings.TrimSpace(compose("port", "web", "80"))
	if _, hostPort, ok := strings.Cut(port, ":"); !ok || hostPort == "" {
		t.Fatalf("port: %q", port)
	} else if body, err := httpGet("http://127.0.0.1:" + hostPort + "/"); err != nil || !strings.Contains(body, "hello from compose") {
		t.Fatalf("published port %s: %q %v", port, body, err)
	}

	// The daemon's objects carry docker compose's names and labels.
	if out := c.ok("inspect", "-f", `{{index .Config.Labels "com.docker.compose.service"}} {{index .Config.Labels "com.docker.compose.container-number"}} {{index .Config.Labels "com.docker.compose.oneoff"}}`, p+"-web-1"); strings.TrimSpace(out) != "web 1 False" {
		t.Fatalf("labels: %q", out)
	}
	if out := c.ok("network", "inspect", "-f", `{{index .Labels "com.docker.compose.network"}}`, p+"_front"); strings.TrimSpace(out) != "front" {
		t.Fatalf("network label: %q", out)
	}
	if out := c.ok("volume", "inspect", "-f", `{{index .Labels "com.docker.compose.volume"}}`, p+"_data"); strings.TrimSpace(out) != "data" {
		t.Fatalf("volume label: %q", out)
	}
	// The client resolves the second replica by its container name and the service by alias.
	compose("up", "-d", "--scale", "web=2")
	if out := compose("ps", "-q", "web"); len(strings.Fields(out)) != 2 {
		t.Fatalf("scale web=2: %q", out)
	}
	eventually(t, 15*time.Second, func() string {
		out, _, code := c.run("", "compose", "-p", p, "exec", "-T", "client", "wget", "-q", "-O", "-", "http://"+p+"-web-2/")
		if code != 0 || !strings.Contains(out, "hello from compose") {
			return "client to web-2: " + out
		}
		return ""
	})
	clientID := strings.TrimSpace(compose("ps", "-q", "client"))
	compose("up", "-d", "--scale", "web=1")
	if out := compose("ps", "-q", "web"); len(strings.Fields(out)) != 1 {
		t.Fatalf("scale back to 1: %q", out)
	}
	if id := strings.TrimSpace(compose("ps", "-q", "client")); id != clientID {
		t.Fatalf("scaling web recreated client: %s -> %s", clientID, id)
	}

	compose("stop")
	if out := compose("ps", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("ps after stop: %q", out)
	}
	if out := compose("ps", "-a"); !strings.Contains(out, "Exited") {
		t.Fatalf("ps -a after stop:\n%s", out)
	}
	compose("start")
	if out := compose("ps", "-q"); len(strings.Fields(out)) != 3 {
		t.Fatalf("ps after start: %q", out)
	}

	// A one-off run joins the project network and is removed with --rm.
	if out := compose("run", "--rm", "--no-deps", "-e", "X=1", "client", "sh", "-c", "echo x=$X; wget -q -O - http://web/"); !strings.Contains(out, "x=1") || !strings.Contains(out, "hello from compose") {
		t.Fatalf("run --rm: %q", out)
	}
	if out := c.ok("ps", "-a", "-q", "--filter", "label=com.docker.compose.oneoff=True"); strings.TrimSpace(out) != "" {
		t.Fatalf("run --rm left %q", out)
	}

	if out := compose("config"); !strings.Contains(out, "name: "+p) || !strings.Contains(out, "GREETING: from-dotenv") {
		t.Fatalf("config:\n%s", out)
	}
	if out := c.ok("compose", "ls"); !regexp.MustCompile(`(?m)^` + p + `\s+running\(3\)`).MatchString(out) {
		t.Fatalf("ls:\n%s", out)
	}

	compose("down", "-v")
	if left := projectLeftovers(c, p); left != "" {
		t.Fatalf("down -v left: %s", left)
	}
}

// TestComposeRecreate: a changed service config recreates that service only; --force-recreate
// and --no-recreate; -f merges an override file; a missing service and an invalid file fail.
func TestComposeRecreate(t *testing.T) {
	c := withBusybox(t, harness.Binary(t, "berth"))
	base := `services:
  a:
    image: busybox
    command: ["sleep", "3600"]
    stop_grace_period: 1s
  b:
    image: busybox
    command: ["sleep", "3600"]
    stop_grace_period: 1s
`
	write(t, filepath.Join(c.dir, "compose.yaml"), base)
	c.ok("compose", "up", "-d")
	project := filepath.Base(c.dir)
	ids := func() map[string]string {
		m := map[string]string{}
		for _, s := range []string{"a", "b"} {
			m[s] = strings.TrimSpace(c.ok("compose", "ps", "-q", s))
		}
		return m
	}
	before := ids()
	write(t, filepath.Join(c.dir, "override.yaml"), "services:\n  a:\n    environment:\n      CHANGED: \"1\"\n")
	c.ok("compose", "-f", "compose.yaml", "-f", "override.yaml", "up", "-d")
	after := ids()
	if after["a"] == before["a"] || after["b"] != before["b"] {
		t.Fatalf("changing a: before %v after %v", before, after)
	}
	if out := c.ok("compose", "-f", "compose.yaml", "-f", "override.yaml", "exec", "-T", "a", "env"); !strings.Contains(out, "CHANGED=1") {
		t.Fatalf("merged override: %q", out)
	}
	c.ok("compose", "up", "-d", "--no-recreate")
	if now := ids(); now["a"] != after["a"] {
		t.Fatal("--no-recreate recreated a")
	}
	c.ok("compose", "-f", "compose.yaml", "-f", "override.yaml", "up", "-d", "--force-recreate", "b")
	if now := ids(); now["b"] == after["b"] {
		t.Fatal("--force-recreate kept b")
	}
	if _, errOut, code := c.run("", "compose", "up", "-d", "nosuch"); code == 0 || !strings.Contains(errOut, "nosuch") {
		t.Fatalf("missing service: %d %q", code, errOut)
	}
	write(t, filepath.Join(c.dir, "bad.yaml"), "services:\n  a:\n    image: busybox\n    ports: 12\n")
	if _, errOut, code := c.run("", "compose", "-f", "bad.yaml", "config"); code == 0 || !strings.Contains(errOut, "ports") {
		t.Fatalf("invalid file: %d %q", code, errOut)
	}
	c.ok("compose", "down")
	if left := projectLeftovers(c, project); left != "" {
		t.Fatalf("down left: %s", left)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestComposeHealthy: depends_on service_healthy holds the dependent back until the health
// check passes; up --wait on a service that never turns healthy fails with its name; a taken
// port fails up --wait too.
func TestComposeHealthy(t *testing.T) {
	c := withBusybox(t, harness.Binary(t, "berth"))
	c.dir, _ = filepath.Abs(filepath.Join("testdata", "compose", "healthy"))
	start := time.Now()
	c.ok("compose", "-p", "hc", "up", "-d")
	if took := time.Since(start); took < 3*time.Second {
		t.Fatalf("up returned after %v, before db could be healthy", took)
	}
	if out := c.ok("inspect", "-f", "{{.State.Health.Status}}", "hc-db-1"); strings.TrimSpace(out) != "healthy" {
		t.Fatalf("db health when app started: %q", out)
	}
	dbUp := c.ok("inspect", "-f", "{{.State.StartedAt}}", "hc-db-1")
	appUp := c.ok("inspect", "-f", "{{.State.StartedAt}}", "hc-app-1")
	if appUp <= dbUp {
		t.Fatalf("app started %s, db %s", appUp, dbUp)
	}
	_, errOut, code := c.run("", "compose", "-p", "hc", "--profile", "broken", "up", "-d", "--wait", "broken")
	if code == 0 || !strings.Contains(errOut, "hc-broken-1") || !strings.Contains(errOut, "unhealthy") {
		t.Fatalf("up --wait unhealthy: %d %q", code, errOut)
	}
	c.ok("compose", "-p", "hc", "--profile", "broken", "down")
	if left := projectLeftovers(c, "hc"); left != "" {
		t.Fatalf("down left: %s", left)
	}

	// A published port already taken on the host fails up with the daemon's message.
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().String()[strings.LastIndex(ln.Addr().String(), ":")+1:]
	dir := t.TempDir()
	write(t, filepath.Join(dir, "compose.yaml"), fmt.Sprintf("services:\n  w:\n    image: busybox\n    command: [sleep, \"60\"]\n    ports: [\"127.0.0.1:%s:80\"]\n", port))
	c.dir = dir
	_, errOut, code = c.run("", "compose", "-p", "pc", "up", "-d", "--wait")
	if code == 0 || !strings.Contains(errOut, port) {
		t.Fatalf("port clash: %d %q", code, errOut)
	}
	c.ok("compose", "-p", "pc", "down")
}

// TestComposeV1 runs the acceptance project with Debian's docker-compose (v1, Python, Engine
// API) against berthd.
func TestComposeV1(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("docker-compose not on PATH; scripts/setup.sh should have installed it")
		}
		t.Skip("docker-compose not installed")
	}
	c := withBusybox(t, harness.Binary(t, "berth"))
	c.dir = composeProject(t)
	v1 := &cli{t: t, bin: bin, d: c.d, dir: c.dir}
	const p = "vone"
	v1.ok("-p", p, "up", "-d")
	eventually(t, 30*time.Second, func() string {
		if out := v1.ok("-p", p, "logs", "client"); !strings.Contains(out, "hello from compose") {
			return "client logs: " + out
		}
		return ""
	})
	if out := v1.ok("-p", p, "ps"); !strings.Contains(out, p+"_web_1") || !strings.Contains(out, "Up") {
		t.Fatalf("ps:\n%s", out)
	}
	// docker-compose's exec half-closes its connection at once when it has no stdin to send.
	if out := v1.ok("-p", p, "exec", "-T", "web", "cat", "/www/index.html"); !strings.Contains(out, "hello from compose") {
		t.Fatalf("docker-compose exec: %q", out)
	}
	if out := v1.ok("-p", p, "logs", "built"); !strings.Contains(out, "built-by-compose") {
		t.Fatalf("built service: %q", out)
	}
	v1.ok("-p", p, "up", "-d", "--scale", "web=2")
	if out := v1.ok("-p", p, "ps", "-q", "web"); len(strings.Fields(out)) != 2 {
		t.Fatalf("scale: %q", out)
	}
	v1.ok("-p", p, "stop")
	v1.ok("-p", p, "start")
	// berth compose sees the project docker-compose made.
	if out := c.ok("compose", "-p", p, "ps", "-a"); !strings.Contains(out, p+"_client_1") {
		t.Fatalf("berth compose ps of a v1 project:\n%s", out)
	}
	v1.ok("-p", p, "down", "-v")
	if left := projectLeftovers(c, p); left != "" {
		t.Fatalf("down -v left: %s", left)
	}
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// TestComposeAttached: up in the foreground prefixes each line with its container and, with
// --exit-code-from, stops the rest and exits with that service's code; run passes its exit code.
func TestComposeAttached(t *testing.T) {
	c := withBusybox(t, harness.Binary(t, "berth"))
	write(t, filepath.Join(c.dir, "compose.yaml"), `services:
  job:
    image: busybox
    command: ["sh", "-c", "sleep 1; echo line-from-job; exit 3"]
  svc:
    image: busybox
    command: ["sleep", "3600"]
    stop_grace_period: 1s
`)
	out, errOut, code := c.run("", "compose", "-p", "att", "up", "--exit-code-from", "job")
	if code != 3 || !regexp.MustCompile(`(?m)^att-job-1\s+\| line-from-job$`).MatchString(out) {
		t.Fatalf("up --exit-code-from: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if out := c.ok("compose", "-p", "att", "ps", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("still running after abort: %q", out)
	}
	if _, _, code := c.run("", "compose", "-p", "att", "run", "--rm", "job", "sh", "-c", "exit 5"); code != 5 {
		t.Fatalf("run exit code %d", code)
	}
	c.ok("compose", "-p", "att", "down")
}
