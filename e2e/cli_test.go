// Package e2e runs the real clients users run (the docker CLI 28.2.2, our berth CLI, docker-py 7.1)
// against a throwaway berthd and checks what they print and how they exit.
package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

type cli struct {
	t   *testing.T
	bin string
	d   *harness.Daemon
	dir string
}

// run executes the CLI and returns stdout, stderr and the exit code.
func (c *cli) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.d.Env()
	cmd.Dir = c.dir
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("%s %v: %v", c.bin, args, err)
	}
	return out.String(), errb.String(), code
}

// ok runs and requires exit 0, returning stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run("", args...)
	if code != 0 {
		c.t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", filepath.Base(c.bin), strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func dockerCLI(t *testing.T) string {
	p, err := exec.LookPath("docker")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("docker CLI not on PATH")
		}
		t.Skip("docker CLI not on PATH")
	}
	return p
}

var idLine = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// TestImageWorkflow is the foundation issue's acceptance list, run with the docker CLI and with berth.
func TestImageWorkflow(t *testing.T) {
	bins := map[string]func(*testing.T) string{
		"docker": dockerCLI,
		"berth":  func(t *testing.T) string { return harness.Binary(t, "berth") },
	}
	for name, bin := range bins {
		t.Run(name, func(t *testing.T) {
			d := harness.Start(t)
			c := &cli{t: t, bin: bin(t), d: d, dir: t.TempDir()}
			tarball := harness.Busybox(t, fixture.Options{})

			if out := c.ok("version"); !strings.Contains(out, "Server") || !strings.Contains(out, "1.51") {
				t.Fatalf("version: %s", out)
			}
			if out := c.ok("info"); !strings.Contains(out, "Storage Driver: overlay2") || !strings.Contains(out, "Docker Root Dir: "+d.DataRoot()) {
				t.Fatalf("info: %s", out)
			}
			if out := c.ok("load", "-i", tarball); !strings.Contains(out, "Loaded image: busybox:latest") {
				t.Fatalf("load: %s", out)
			}
			out := c.ok("images")
			if !regexp.MustCompile(`(?m)^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^busybox\s+latest\s+[0-9a-f]{12}\s+.+ago\s+[0-9.]+[kM]B$`).MatchString(out) {
				t.Fatalf("images table:\n%s", out)
			}
			id := strings.TrimSpace(c.ok("images", "-q", "--no-trunc"))
			if !idLine.MatchString(id) {
				t.Fatalf("images -q --no-trunc: %q", id)
			}
			c.ok("tag", "busybox", "localhost:5000/team/bb:1")
			if out := c.ok("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=localhost:5000/*/*"); strings.TrimSpace(out) != "localhost:5000/team/bb:1" {
				t.Fatalf("reference filter: %q", out)
			}
			if out := c.ok("image", "inspect", "-f", "{{.Config.Cmd}}", "busybox"); strings.TrimSpace(out) != "[sh]" {
				t.Fatalf("inspect -f: %q", out)
			}
			if out := c.ok("inspect", "--format", "{{json .RepoTags}}", "busybox"); !strings.Contains(out, `"busybox:latest"`) {
				t.Fatalf("inspect json: %q", out)
			}
			if out := c.ok("history", "busybox"); !strings.Contains(out, "CREATED BY") || !strings.Contains(out, id[7:19]) {
				t.Fatalf("history: %s", out)
			}

			// save two names | load: the ID is unchanged.
			saved := filepath.Join(c.dir, "two.tar")
			c.ok("save", "-o", saved, "busybox", "localhost:5000/team/bb:1")
			c.ok("rmi", "localhost:5000/team/bb:1")
			if out := c.ok("rmi", "busybox"); !strings.Contains(out, "Untagged: busybox:latest") || !strings.Contains(out, "Deleted: "+id) {
				t.Fatalf("rmi last tag: %s", out)
			}
			out = c.ok("load", "-i", saved)
			if !strings.Contains(out, "Loaded image: busybox:latest") || !strings.Contains(out, "Loaded image: localhost:5000/team/bb:1") {
				t.Fatalf("reload: %s", out)
			}
			if got := strings.TrimSpace(c.ok("images", "-q", "--no-trunc", "busybox")); got != id {
				t.Fatalf("ID changed across save/load: %s vs %s", got, id)
			}

			// import with a change.
			layer := filepath.Join(c.dir, "rootfs.tar")
			writeRootfs(t, tarball, layer)
			out = c.ok("import", "-c", `CMD ["sh"]`, "-m", "imported by test", layer, "imported:v1")
			if !idLine.MatchString(strings.TrimSpace(out)) {
				t.Fatalf("import output: %q", out)
			}
			if out := c.ok("image", "inspect", "-f", "{{.Config.Cmd}} {{.Comment}}", "imported:v1"); strings.TrimSpace(out) != "[sh] imported by test" {
				t.Fatalf("imported config: %q", out)
			}

			// Errors: missing image and a usage error.
			_, errOut, code := c.run("", "rmi", "nosuchimage")
			if code != 1 || !strings.Contains(errOut, "No such image: nosuchimage") {
				t.Fatalf("rmi missing: exit %d, %q", code, errOut)
			}
			_, errOut, code = c.run("", "images", "--bogus-flag")
			if code != 125 || !strings.Contains(errOut, "unknown flag: --bogus-flag") {
				t.Fatalf("unknown flag: exit %d, %q", code, errOut)
			}

			if out := c.ok("system", "df"); !regexp.MustCompile(`(?m)^Images\s+2\s+0\s+`).MatchString(out) {
				t.Fatalf("system df:\n%s", out)
			}
			out = c.ok("image", "prune", "-a", "-f")
			if !strings.Contains(out, "Total reclaimed space:") || !strings.Contains(out, "deleted: "+id) {
				t.Fatalf("prune -a: %s", out)
			}
			if out := c.ok("images", "-q"); strings.TrimSpace(out) != "" {
				t.Fatalf("images after prune -a: %q", out)
			}
		})
	}
}

// TestDaemonNotRunning checks the message both CLIs give when nothing listens.
func TestDaemonNotRunning(t *testing.T) {
	harness.RequireRoot(t)
	sock := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	for _, bin := range []string{harness.Binary(t, "berth"), dockerCLI(t)} {
		cmd := exec.Command(bin, "images")
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+sock, "BERTH_HOST="+sock)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "Cannot connect to the") || !strings.Contains(string(out), "daemon") {
			t.Fatalf("%s with no daemon: %v %s", bin, err, out)
		}
	}
}

// TestEventsAndSystemPrune: events (default line, --filter, --format, --since/--until), system
// prune, and a network-scoped alias refused on the default bridge, the same with both CLIs.
func TestEventsAndSystemPrune(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			c.ok("run", "--rm", "--name", "evt", "busybox", "true")
			time.Sleep(1100 * time.Millisecond) // --until 0s is now in whole seconds, as docker's CLI sends it
			if out := c.ok("events", "--since", "60s", "--until", "0s", "-f", "container=evt", "--format", "{{.Action}}"); out != "create\nstart\ndie\ndestroy\n" {
				t.Fatalf("events of evt: %q", out)
			}
			line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container create [0-9a-f]{64} \(image=busybox, name=evt\)$`)
			if out := strings.Split(c.ok("events", "--since", "60s", "--until", "0s", "--filter", "event=create"), "\n")[0]; !line.MatchString(out) {
				t.Fatalf("event line %q", out)
			}
			if _, errOut, code := c.run("", "events", "--since", "bogus"); code == 0 || !strings.Contains(errOut, `failed to parse value as time or duration: "bogus"`) {
				t.Fatalf("events --since bogus: exit %d %q", code, errOut)
			}

			c.ok("network", "create", "side")
			keep := strings.TrimSpace(c.ok("run", "-d", "--network", "side", "busybox", "sleep", "300"))
			if _, errOut, code := c.run("", "network", "connect", "--alias", "x", "bridge", keep); code == 0 || !strings.Contains(errOut, "network-scoped alias is supported only for containers in user defined networks") {
				t.Fatalf("alias on the default bridge: exit %d %q", code, errOut)
			}
			dead := strings.TrimSpace(c.ok("create", "busybox", "true"))
			c.ok("network", "create", "unused")
			out := c.ok("system", "prune", "-f")
			for _, want := range []string{"Deleted Containers:\n" + dead + "\n\n", "Deleted Networks:\nunused\n\n", "Total reclaimed space: "} {
				if !strings.Contains(out, want) {
					t.Fatalf("system prune output lacks %q:\n%s", want, out)
				}
			}
			if got := strings.Fields(c.ok("ps", "-aq", "--no-trunc")); len(got) != 1 || got[0] != keep {
				t.Fatalf("containers after system prune: %v, want only the running one", got)
			}
		})
	}
}
