package e2e

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/integration/harness"
)

// The build's inputs beyond the context directory: a remote ADD checked against --checksum,
// --add-host, --iidfile, RUN mounts (cache kept across builds, bind from the context, tmpfs
// left out of the layer), a Dockerfile alone on stdin and a tar context on stdin.
func TestBuildInputs(t *testing.T) {
	const remote = "fetched over http\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/remote.txt" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, remote)
	}))
	defer srv.Close()
	sum := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(remote)))

	forEachCLI(t, func(t *testing.T, c *cli, ctx string) {
		writeFiles(t, ctx, map[string]string{
			"hello.txt": "hi\n",
			"Dockerfile": fmt.Sprintf(`FROM busybox
ADD --checksum=%s %s/remote.txt /remote.txt
RUN grep buildhost /etc/hosts | cut -f1 > /hosts
RUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log > /cache-lines
RUN --mount=type=bind,source=hello.txt,target=/mnt/hello.txt cp /mnt/hello.txt /bound
RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && ls /scratch > /tmpfs-seen
`, sum, srv.URL),
		})
		iid := filepath.Join(t.TempDir(), "iid")
		c.buildOK(ctx, "--add-host", "buildhost:10.1.2.3", "--iidfile", iid, "-t", "inputs:1")
		id, err := os.ReadFile(iid)
		if err != nil || string(id) != c.imageID("inputs:1") {
			t.Errorf("--iidfile holds %q (%v), the image is %s", id, err, c.imageID("inputs:1"))
		}
		got := c.ok("run", "--rm", "inputs:1", "sh", "-c", "cat /remote.txt /hosts /cache-lines /bound /tmpfs-seen; ls /scratch | wc -l")
		if want := remote + "10.1.2.3\n1\nhi\nx\n0\n"; got != want {
			t.Errorf("image contents %q, want %q", got, want)
		}
		// The cache mount outlives the build: a --no-cache rebuild sees the first run's line.
		c.buildOK(ctx, "--no-cache", "--add-host", "buildhost:10.1.2.3", "-t", "inputs:2")
		if got := c.ok("run", "--rm", "inputs:2", "cat", "/cache-lines"); got != "2\n" {
			t.Errorf("cache mount lines on the second build: %q, want 2", got)
		}

		writeFiles(t, ctx, map[string]string{"Dockerfile": fmt.Sprintf("FROM busybox\nADD --checksum=sha256:%064x %s/remote.txt /r\n", 1, srv.URL)})
		if out, errOut, code := c.build(ctx); code == 0 || !strings.Contains(strings.ToLower(out+errOut), "checksum") {
			t.Errorf("a wrong --checksum: exit %d\n%s%s", code, out, errOut)
		}

		out, errOut, code := c.run("FROM busybox\nCMD [\"echo\", \"from stdin\"]\n", "build", "-t", "stdin:df", "-")
		if code != 0 {
			t.Fatalf("build - : exit %d\n%s%s", code, out, errOut)
		}
		if got := c.ok("run", "--rm", "stdin:df"); got != "from stdin\n" {
			t.Errorf("Dockerfile from stdin: %q", got)
		}
		tarPath := filepath.Join(t.TempDir(), "ctx.tar")
		tarFile(t, tarPath, map[string]string{"Dockerfile": "FROM busybox\nCOPY a.txt /\n", "a.txt": "in the tar\n"})
		tarData, err := os.ReadFile(tarPath)
		if err != nil {
			t.Fatal(err)
		}
		if out, errOut, code := c.run(string(tarData), "build", "-t", "stdin:tar", "-"); code != 0 {
			t.Fatalf("build - < tar: exit %d\n%s%s", code, out, errOut)
		}
		if got := c.ok("run", "--rm", "stdin:tar", "cat", "/a.txt"); got != "in the tar\n" {
			t.Errorf("tar context from stdin: %q", got)
		}
	})
}

// The build cache survives a daemon restart, `builder prune -a` empties it, and --cache-from
// then reuses the steps of a tagged image instead.
func TestBuildCacheLifetime(t *testing.T) {
	forEachCLI(t, func(t *testing.T, c *cli, ctx string) {
		writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo one > /one\nRUN echo two > /two\nCMD [\"cat\", \"/one\"]\n"})
		c.buildOK(ctx, "-t", "cached:1")
		first := c.imageID("cached:1")

		c.d.Restart()
		out := c.buildOK(ctx, "-t", "cached:1")
		if strings.Count(out, "Using cache") != 3 || c.imageID("cached:1") != first {
			t.Errorf("after a restart: %d steps from the cache, image %s (was %s):\n%s", strings.Count(out, "Using cache"), c.imageID("cached:1"), first, out)
		}

		c.ok("builder", "prune", "-a", "-f")
		out = c.buildOK(ctx, "-t", "cached:2")
		if strings.Contains(out, "Using cache") {
			t.Errorf("a build after builder prune -a used the cache:\n%s", out)
		}
		c.ok("builder", "prune", "-a", "-f")
		out = c.buildOK(ctx, "--cache-from", "cached:2", "-t", "cached:3")
		if strings.Count(out, "Using cache") != 3 || strings.Contains(out, "Running in") {
			t.Errorf("--cache-from did not reuse the image's steps:\n%s", out)
		}
	})
}

// --pull fetches the base even when a local image of that name exists; without it the local
// one is used, as in docker.
func TestBuildPull(t *testing.T) {
	reg := harness.StartRegistry(t, harness.RegistryOptions{})
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			base := reg.Addr + "/" + name + "/base:1"
			ctx := t.TempDir()
			writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo newer > /marker\n"})
			c.buildOK(ctx, "-t", base)
			c.ok("push", base)
			c.ok("tag", "busybox", base) // the local name now points at the older image

			writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM " + base + "\nRUN cat /marker 2>/dev/null || echo none > /marker\n"})
			c.buildOK(ctx, "-t", "child:local")
			if got := c.ok("run", "--rm", "child:local", "cat", "/marker"); got != "none\n" {
				t.Errorf("without --pull the local base should be used: %q", got)
			}
			c.buildOK(ctx, "--pull", "-t", "child:pulled")
			if got := c.ok("run", "--rm", "child:pulled", "cat", "/marker"); got != "newer\n" {
				t.Errorf("with --pull the registry's base should be used: %q", got)
			}
		})
	}
}

// A daemon killed in the middle of a RUN leaves nothing behind once it is back: the step's
// container (whose shim outlived the daemon) is removed, no half image is listed, and the same
// build then runs to the end.
func TestBuildDaemonKilledMidRun(t *testing.T) {
	c := withBusybox(t, harness.Binary(t, "berth"))
	ctx := t.TempDir()
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo step-one > /one\nRUN test -e /go-on || (touch /tmp/started; sleep 60)\n"})
	before := c.ok("images", "-a", "-q")

	cmd := exec.Command(c.bin, "build", "-t", "killed", ctx)
	cmd.Env = c.d.Env()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(c.ok("ps", "-a", "--filter", "label=berth.build", "--format", "{{.Status}}"), "Up") {
		if time.Now().After(deadline) {
			t.Fatalf("the RUN container never came up:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.d.Kill()
	if err := cmd.Wait(); err == nil {
		t.Errorf("the build succeeded although its daemon was killed:\n%s", out.String())
	}
	c.d.Restart()
	if got := c.ok("ps", "-a", "-q", "--filter", "label=berth.build"); got != "" {
		t.Errorf("build containers left after the restart: %q", got)
	}
	if got := c.ok("images", "-a", "-q"); got != before {
		t.Errorf("images after the killed build %q, before it %q", got, before)
	}
	writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo step-one > /one\nRUN true\n"})
	c.buildOK(ctx, "-t", "killed")
	if got := c.ok("run", "--rm", "killed", "cat", "/one"); got != "step-one\n" {
		t.Errorf("rebuilt image: %q", got)
	}
}
