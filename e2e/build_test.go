package e2e

import (
	"archive/tar"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles lays out a build context.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tarFile writes a plain tar of files at path.
func tarFile(t *testing.T, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(content))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// build runs a build of dir with the CLI (docker's legacy builder: the harness sets no buildx) and
// returns stdout, stderr and the exit code.
func (c *cli) build(dir string, args ...string) (string, string, int) {
	c.t.Helper()
	return c.run("", append(append([]string{"build"}, args...), dir)...)
}

func (c *cli) buildOK(dir string, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.build(dir, args...)
	if code != 0 {
		c.t.Fatalf("build %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out + errOut
}

func (c *cli) imageID(ref string) string {
	c.t.Helper()
	return strings.TrimSpace(c.ok("image", "inspect", "--format", "{{.Id}}", ref))
}

const everyInstruction = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM ${BASE} AS base
ARG VERSION=1.0
LABEL org.example.version=$VERSION maintainer.note="two words"
MAINTAINER berth tests <tests@example.com>
ENV APP_HOME=/app GREETING="hello world"
WORKDIR $APP_HOME
COPY hello.txt .
COPY --chown=1000:1000 --chmod=600 secret.txt /app/secret.txt
ADD archive.tar /app/unpacked/
RUN echo "$GREETING from $VERSION" > /app/greeting && cat /app/greeting
RUN ["/bin/sh", "-c", "echo exec form > /app/exec"]
RUN <<EOF
echo heredoc > /app/heredoc
EOF
EXPOSE 8080 53/udp
VOLUME /data
USER 1000:1000
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --timeout=2s --retries=3 CMD ["true"]
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo child
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/greeting"]
`

type builtImage struct {
	Id     string
	Author string
	Config struct {
		Env          []string
		Cmd          []string
		Entrypoint   []string
		WorkingDir   string
		User         string
		Labels       map[string]string
		ExposedPorts map[string]any
		Volumes      map[string]any
		StopSignal   string
		Shell        []string
		OnBuild      []string
		Healthcheck  *struct {
			Test     []string
			Interval int64
			Retries  int
		}
	}
}

func TestBuildEveryInstruction(t *testing.T) {
	forEachCLI(t, func(t *testing.T, c *cli, ctx string) {
		writeFiles(t, ctx, map[string]string{"Dockerfile": everyInstruction, "hello.txt": "hi\n", "secret.txt": "s3cret\n"})
		tarFile(t, filepath.Join(ctx, "archive.tar"), map[string]string{"inner/a.txt": "from tar\n"})
		out := c.buildOK(ctx, "-t", "every:1", "-t", "every:2")
		if !strings.Contains(out, "hello world from 1.0") {
			t.Fatalf("RUN output missing:\n%s", out)
		}
		var insp []builtImage
		if err := json.Unmarshal([]byte(c.ok("image", "inspect", "every:1")), &insp); err != nil || len(insp) != 1 {
			t.Fatalf("inspect: %v", err)
		}
		cfg := insp[0].Config
		env := strings.Join(cfg.Env, ",")
		checks := map[string]bool{
			"env":        strings.Contains(env, "GREETING=hello world") && strings.Contains(env, "APP_HOME=/app"),
			"cmd":        strings.Join(cfg.Cmd, " ") == "cat /app/greeting",
			"entrypoint": strings.Join(cfg.Entrypoint, " ") == "/bin/sh -c",
			"workdir":    cfg.WorkingDir == "/app",
			"user":       cfg.User == "1000:1000",
			"labels":     cfg.Labels["org.example.version"] == "1.0" && cfg.Labels["maintainer.note"] == "two words",
			"ports":      cfg.ExposedPorts["8080/tcp"] != nil && cfg.ExposedPorts["53/udp"] != nil,
			"volumes":    cfg.Volumes["/data"] != nil,
			"stopsignal": cfg.StopSignal == "SIGINT",
			"shell":      strings.Join(cfg.Shell, " ") == "/bin/sh -ec",
			"onbuild":    len(cfg.OnBuild) == 1 && cfg.OnBuild[0] == "RUN echo child",
			"health":     cfg.Healthcheck != nil && cfg.Healthcheck.Retries == 3 && cfg.Healthcheck.Interval == 5e9,
			"author":     insp[0].Author == "berth tests <tests@example.com>",
		}
		for what, ok := range checks {
			if !ok {
				t.Errorf("%s not as written: %+v", what, insp[0])
			}
		}
		if id2 := c.imageID("every:2"); id2 != insp[0].Id {
			t.Errorf("second tag points at %s, not %s", id2, insp[0].Id)
		}
		got := c.ok("run", "--rm", "--entrypoint", "cat", "every:1", "/app/hello.txt", "/app/unpacked/inner/a.txt", "/app/greeting", "/app/exec", "/app/heredoc")
		if got != "hi\nfrom tar\nhello world from 1.0\nexec form\nheredoc\n" {
			t.Errorf("files in the image: %q", got)
		}
		if got := c.ok("run", "--rm", "--entrypoint", "stat", "every:1", "-c", "%u:%g %a", "/app/secret.txt"); got != "1000:1000 600\n" {
			t.Errorf("COPY --chown --chmod: %q", got)
		}
		hist := c.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Size}}", "every:1")
		for _, want := range []string{
			`/bin/sh -ec #(nop)  CMD ["cat /app/greeting"]|0B`,
			`/bin/sh -c #(nop)  WORKDIR /app|`,
			`|1 VERSION=1.0 /bin/sh -c echo "$GREETING from $VERSION" > /app/greeting && cat /app/greeting|`,
			`/bin/sh -c #(nop)  ENV APP_HOME=/app GREETING=hello world|0B`,
			`/bin/sh -c #(nop) COPY file:`,
		} {
			if !strings.Contains(hist, want) {
				t.Errorf("history lacks %q:\n%s", want, hist)
			}
		}

		// Nothing changed: every step from the cache, the same image.
		out = c.buildOK(ctx, "-t", "every:1")
		if n := strings.Count(out, "Using cache"); n < 20 {
			t.Errorf("rebuild used the cache %d times:\n%s", n, out)
		}
		if strings.Contains(out, "Running in") {
			t.Errorf("rebuild ran a container:\n%s", out)
		}
		if id := c.imageID("every:1"); id != insp[0].Id {
			t.Errorf("rebuild made %s, first build %s", id, insp[0].Id)
		}

		// One COPY'd file changed: the steps before it cached, it and the ones after rebuilt.
		writeFiles(t, ctx, map[string]string{"hello.txt": "changed\n"})
		out = c.buildOK(ctx, "-t", "every:1")
		before, after, _ := strings.Cut(out, "COPY hello.txt .")
		if strings.Count(before, "Using cache") != 5 || strings.Contains(after, "Using cache") {
			t.Errorf("after a change: cache use before the COPY %d, after it %d:\n%s", strings.Count(before, "Using cache"), strings.Count(after, "Using cache"), out)
		}
		if got := c.ok("run", "--rm", "--entrypoint", "cat", "every:1", "/app/hello.txt"); got != "changed\n" {
			t.Errorf("changed file: %q", got)
		}
	})
}

func TestBuildMultiStage(t *testing.T) {
	forEachCLI(t, func(t *testing.T, c *cli, ctx string) {
		writeFiles(t, ctx, map[string]string{
			"Dockerfile": `FROM busybox AS builder
RUN mkdir /out && echo artifact > /out/app
FROM busybox AS unused
RUN echo never-built-for-final
FROM busybox AS final
COPY --from=builder /out/app /usr/local/bin/app
CMD ["cat", "/usr/local/bin/app"]
`,
			"keep.txt":      "k",
			"secret.key":    "do not send",
			".dockerignore": "*.key\n",
		})
		out := c.buildOK(ctx, "-t", "multi")
		if strings.Contains(out, "never-built-for-final") {
			t.Errorf("an unneeded stage was built:\n%s", out)
		}
		if got := c.ok("run", "--rm", "multi"); got != "artifact\n" {
			t.Errorf("artifact %q", got)
		}
		out = c.buildOK(ctx, "--target", "builder", "-t", "early")
		if strings.Contains(out, "COPY --from") {
			t.Errorf("--target builder went past its stage:\n%s", out)
		}
		if got := c.ok("run", "--rm", "early", "cat", "/out/app"); got != "artifact\n" {
			t.Errorf("target image %q", got)
		}
		writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nCOPY . /ctx/\n"})
		c.buildOK(ctx, "-t", "ctx")
		got := c.ok("run", "--rm", "ctx", "ls", "/ctx")
		if strings.Contains(got, "secret.key") || !strings.Contains(got, "keep.txt") {
			t.Errorf(".dockerignore not applied: %q", got)
		}
	})
}

func TestBuildOnbuildAndErrors(t *testing.T) {
	forEachCLI(t, func(t *testing.T, c *cli, ctx string) {
		writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nONBUILD RUN echo fired > /onbuild\n"})
		c.buildOK(ctx, "-t", "parent")
		writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM parent\nCMD [\"cat\", \"/onbuild\"]\n"})
		c.buildOK(ctx, "-t", "child")
		if got := c.ok("run", "--rm", "child"); got != "fired\n" {
			t.Errorf("ONBUILD trigger: %q", got)
		}
		if got := c.ok("image", "inspect", "--format", "{{len .Config.OnBuild}}", "child"); got != "0\n" {
			t.Errorf("child keeps the triggers: %q", got)
		}
		for df, want := range map[string][]string{
			"FROM busybox\nRUN true\nFROBNICATE x\n":   {"line 3", "unknown instruction: FROBNICATE"},
			"FROM busybox\nRUN echo failing; exit 3\n": {"failing", "The command '/bin/sh -c echo failing; exit 3' returned a non-zero code: 3", "Dockerfile:2"},
			"FROM busybox\nCOPY missing.txt /\n":       {"missing.txt", "Dockerfile:2"},
			"FROM busybox\nCOPY --from=nosuch /a /b\n": {"nosuch", "Dockerfile:2"},
			"FROM busybox\nCOPY --bogus=1 a /\n":       {"line 2", "bogus"},
		} {
			writeFiles(t, ctx, map[string]string{"Dockerfile": df})
			out, errOut, code := c.build(ctx)
			if code == 0 {
				t.Errorf("%q built", df)
				continue
			}
			for _, w := range want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("%q: output lacks %q:\n%s%s", df, w, out, errOut)
				}
			}
		}
	})
}

// RUN is on the default bridge as in docker (it reaches the network through eth0), and
// --network none leaves it loopback only; the two builds do not share cache entries.
func TestBuildNetwork(t *testing.T) {
	forEachCLI(t, func(t *testing.T, c *cli, ctx string) {
		writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN ls /sys/class/net | tr '\\n' ' ' > /nets\n"})
		c.buildOK(ctx, "-t", "net:default")
		if got := c.ok("run", "--rm", "net:default", "cat", "/nets"); got != "eth0 lo " {
			t.Errorf("interfaces of a default RUN: %q, want eth0 and lo", got)
		}
		out := c.buildOK(ctx, "--network", "none", "-t", "net:none")
		if strings.Contains(out, "Using cache") {
			t.Errorf("--network none reused the default build's RUN:\n%s", out)
		}
		if got := c.ok("run", "--rm", "net:none", "cat", "/nets"); got != "lo " {
			t.Errorf("interfaces of a --network none RUN: %q, want lo only", got)
		}
	})
}

// forEachCLI runs body as a subtest with the docker CLI and with berth, each against its own
// daemon holding busybox, with an empty directory for the build context.
func forEachCLI(t *testing.T, body func(t *testing.T, c *cli, ctx string)) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) { body(t, withBusybox(t, bin), t.TempDir()) })
	}
}

// TestBuildRunLimits: the legacy builder's limits reach the RUN containers (--memory in their
// cgroup, --ulimit, --shm-size), a compressed context builds, and --squash is refused plainly.
func TestBuildRunLimits(t *testing.T) {
	forEachCLI(t, func(t *testing.T, c *cli, ctx string) {
		writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\n" +
			"RUN (cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max) > /mem && ulimit -n > /nofile && df -k /dev/shm | tail -1 > /shm\n"})
		c.buildOK(ctx, "--memory", "64m", "--ulimit", "nofile=512:512", "--shm-size", "16m", "--compress", "--force-rm", "-t", "lim")
		for file, want := range map[string]string{"/mem": "67108864", "/nofile": "512", "/shm": "16384"} {
			if got := c.ok("run", "--rm", "lim", "cat", file); !strings.Contains(got, want) {
				t.Errorf("%s in the RUN step: %q, want %s", file, got, want)
			}
		}
		if _, errOut, code := c.run("", "build", "--squash", ctx); code == 0 || !strings.Contains(errOut, "squash") {
			t.Errorf("build --squash: exit %d %q", code, errOut)
		}
	})
}

// TestBuildIntermediateContainers: docker's rules for RUN containers. A failed step's container
// stays for a look unless --force-rm; a successful one goes unless --rm=false.
func TestBuildIntermediateContainers(t *testing.T) {
	forEachCLI(t, func(t *testing.T, c *cli, ctx string) {
		left := func() int { return len(strings.Fields(c.ok("ps", "-aq", "--filter", "label=berth.build"))) }
		writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo built > /f\nRUN exit 7\n"})
		if _, _, code := c.run("", "build", ctx); code == 0 {
			t.Fatal("a build with RUN exit 7 succeeded")
		}
		if n := left(); n != 1 {
			t.Fatalf("after a failed build: %d build containers, want the failed step's", n)
		}
		c.ok("container", "prune", "-f")
		c.run("", "build", "--force-rm", ctx)
		if n := left(); n != 0 {
			t.Fatalf("after a failed build with --force-rm: %d build containers", n)
		}
		writeFiles(t, ctx, map[string]string{"Dockerfile": "FROM busybox\nRUN echo kept > /f\n"})
		c.buildOK(ctx, "--rm=false", "--no-cache")
		if n := left(); n != 1 {
			t.Fatalf("after a build with --rm=false: %d build containers, want 1", n)
		}
		c.buildOK(ctx, "--no-cache")
		if n := left(); n != 1 {
			t.Fatalf("after a default build: %d build containers, want still the one kept before", n)
		}
	})
}
