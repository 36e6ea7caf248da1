// Package harness starts throwaway berthd processes for integration and end-to-end tests: each
// gets its own data root, exec root and socket under a temporary directory and is stopped and
// removed when the test ends.
package harness

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/fixture"
)

// Daemon is one berthd under test.
type Daemon struct {
	t       testing.TB
	Bin     string
	Dir     string
	Sock    string
	LogPath string
	// Bridge is the daemon's default bridge, its own so that daemons of tests running side by
	// side never share one (or the nftables table named after it).
	Bridge string
	cmd    *exec.Cmd
	done   chan struct{}
}

var (
	buildMu   sync.Mutex
	buildDir  string
	builtBins = map[string]string{}
)

// Binary returns the path of the berthd or berth binary: $BERTHD_BIN / $BERTH_BIN when set, else one
// built once per test process from this checkout.
func Binary(t testing.TB, name string) string {
	env := map[string]string{"berthd": "BERTHD_BIN", "berth": "BERTH_BIN"}[name]
	if p := os.Getenv(env); p != "" {
		return p
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := builtBins[name]; ok {
		return p
	}
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "berth-bin-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = dir
	}
	progs := []string{name}
	if name == "berthd" {
		progs = append(progs, "berth-shim") // berthd finds its shim beside itself
	}
	for _, p := range progs {
		cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, p), "./cmd/"+p)
		cmd.Dir = moduleRoot()
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", p, err, b)
		}
	}
	out := filepath.Join(buildDir, name)
	builtBins[name] = out
	return out
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// RequireRoot skips tests that need root (overlayfs, mounts, chown).
func RequireRoot(t testing.TB) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// Start launches a berthd with fresh roots and waits until it answers /_ping.
func Start(t testing.TB, extraArgs ...string) *Daemon {
	RequireRoot(t)
	dir, err := os.MkdirTemp("", "berth-it-")
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{t: t, Bin: Binary(t, "berthd"), Dir: dir, Sock: filepath.Join(dir, "berth.sock"), LogPath: filepath.Join(dir, "berthd.log"),
		Bridge: "bt" + strings.TrimPrefix(filepath.Base(dir), "berth-it-")}
	t.Cleanup(func() {
		d.removeContainers()
		d.Stop()
		if t.Failed() {
			if b, err := os.ReadFile(d.LogPath); err == nil {
				t.Logf("berthd log:\n%s", b)
			}
		}
		os.RemoveAll(dir)
	})
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.launch(extraArgs...)
	return d
}

func (d *Daemon) launch(extraArgs ...string) {
	logf, err := os.OpenFile(d.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	args := append([]string{"--data-root", filepath.Join(d.Dir, "data"), "--exec-root", filepath.Join(d.Dir, "exec"),
		"-H", "unix://" + d.Sock, "--config-file", filepath.Join(d.Dir, "daemon.json"), "--log-level", "debug", "--bridge", d.Bridge}, extraArgs...)
	d.cmd = exec.Command(d.Bin, args...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.done = make(chan struct{})
	go func() { d.cmd.Wait(); logf.Close(); close(d.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			b, _ := os.ReadFile(d.LogPath)
			d.t.Fatalf("berthd exited during start:\n%s", b)
		default:
		}
		if resp, err := d.Do("GET", "/_ping", nil); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.t.Fatal("berthd did not answer /_ping within 20s")
}

// Host is the DOCKER_HOST value for this daemon.
func (d *Daemon) Host() string { return "unix://" + d.Sock }

// DataRoot is the daemon's data root.
func (d *Daemon) DataRoot() string { return filepath.Join(d.Dir, "data") }

// Env returns the environment for clients (docker CLI, docker-py, berth) aimed at this daemon.
func (d *Daemon) Env() []string {
	env := []string{"DOCKER_HOST=" + d.Host(), "BERTH_HOST=" + d.Host(), "DOCKER_CONFIG=" + filepath.Join(d.Dir, "client-config")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") && !strings.HasPrefix(kv, "BERTH_") {
			env = append(env, kv)
		}
	}
	return env
}

// Do sends one API request over the socket.
func (d *Daemon) Do(method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, "http://berth"+path, body)
	if err != nil {
		return nil, err
	}
	return d.HTTPClient().Do(req)
}

// HTTPClient talks to the daemon's socket.
func (d *Daemon) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, "unix", d.Sock)
		},
	}}
}

// Stop sends SIGTERM and waits for the daemon to exit (SIGKILL after 20s).
func (d *Daemon) Stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}

// Kill sends SIGKILL and waits for the process to be gone, as a crash would.
func (d *Daemon) Kill() {
	d.cmd.Process.Kill()
	<-d.done
}

// Restart starts the daemon again on the same roots.
func (d *Daemon) Restart(extraArgs ...string) {
	d.Stop()
	d.launch(extraArgs...)
}

// Busybox writes the busybox test image tar (tagged tags, default busybox:latest) into the test's
// temp dir and returns its path.
func Busybox(t testing.TB, opts fixture.Options) string {
	p := filepath.Join(t.TempDir(), "busybox.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := fixture.WriteBusybox(f, opts); err != nil {
		t.Fatal(err)
	}
	return p
}

// removeContainers force-removes every container, since containers outlive their daemon by design
// and a test must not leave processes, shims or mounts behind.
func (d *Daemon) removeContainers() {
	select {
	case <-d.done:
		return
	default:
	}
	resp, err := d.Do("GET", "/containers/json?all=1", nil)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	var list []struct {
		ID string `json:"Id"`
	}
	if json.NewDecoder(resp.Body).Decode(&list) != nil {
		return
	}
	for _, c := range list {
		if r, err := d.Do("DELETE", "/containers/"+c.ID+"?force=1", nil); err == nil {
			r.Body.Close()
		}
	}
}

// Dump makes the daemon write its goroutine stacks to its log (SIGQUIT, which also ends it), for
// a test that found it stuck.
func (d *Daemon) Dump() {
	if d.cmd != nil && d.cmd.Process != nil {
		d.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-d.done:
		case <-time.After(5 * time.Second):
		}
	}
}
