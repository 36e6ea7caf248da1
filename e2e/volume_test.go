package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

// seededImage is busybox with /seed/hello.txt and VOLUME /seed, for copy-up and image volumes.
var seededImage = fixture.Options{
	RepoTags:   []string{"seeded:latest"},
	ExtraFiles: map[string][]byte{"seed/hello.txt": []byte("from image\n")},
	Volumes:    []string{"/seed"},
}

// fails runs a command that must fail with code and an error containing want.
func (c *cli) fails(code int, want string, args ...string) {
	c.t.Helper()
	_, errOut, got := c.run("", args...)
	if got != code || !strings.Contains(errOut, want) {
		c.t.Fatalf("%v: exit %d (want %d), stderr %q (want %q)", args, got, code, errOut, want)
	}
}

func lines(s string) []string { return strings.Fields(s) }

// TestVolumeNamedSharedReadOnly: data outlives containers, running containers share it, ro refuses
// writes, a volume in use cannot be removed, and inspect shows the mount as docker does.
func TestVolumeNamedSharedReadOnly(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			if out := c.ok("volume", "create", "--label", "team=a", "v1"); out != "v1\n" {
				t.Fatalf("create printed %q", out)
			}
			c.ok("run", "--rm", "-v", "v1:/data", "busybox", "sh", "-c", "echo hello > /data/f")
			if out := c.ok("run", "--rm", "-v", "v1:/data", "busybox", "cat", "/data/f"); out != "hello\n" {
				t.Fatalf("later container read %q", out)
			}
			c.ok("run", "-d", "--name", "ca", "-v", "v1:/data", "busybox", "sleep", "1000")
			c.ok("run", "-d", "--name", "cb", "--mount", "type=volume,src=v1,dst=/shared", "busybox", "sleep", "1000")
			c.ok("exec", "ca", "sh", "-c", "echo from-a > /data/a")
			c.ok("exec", "cb", "sh", "-c", "echo from-b > /shared/b")
			if out := c.ok("exec", "cb", "cat", "/shared/a"); out != "from-a\n" {
				t.Fatalf("b reads a's write: %q", out)
			}
			if out := c.ok("exec", "ca", "cat", "/data/b"); out != "from-b\n" {
				t.Fatalf("a reads b's write: %q", out)
			}
			for _, args := range [][]string{
				{"run", "--rm", "-v", "v1:/data:ro", "busybox", "sh", "-c", "echo x > /data/g"},
				{"run", "--rm", "--mount", "type=volume,src=v1,dst=/data,readonly", "busybox", "sh", "-c", "echo x > /data/g"},
			} {
				c.fails(1, "Read-only file system", args...)
			}
			want := "volume v1 /data true z local"
			if out := c.ok("inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}} {{.Mode}} {{.Driver}}{{end}}", "ca"); strings.TrimSpace(out) != want {
				t.Fatalf("inspect Mounts %q, want %q", out, want)
			}
			if out := c.ok("inspect", "-f", "{{.HostConfig.Binds}}", "ca"); strings.TrimSpace(out) != "[v1:/data]" {
				t.Fatalf("HostConfig.Binds %q", out)
			}
			c.fails(1, "volume is in use", "volume", "rm", "v1")
			c.fails(1, "volume is in use", "volume", "rm", "-f", "v1")
			if out := c.ok("volume", "ls", "-q", "--filter", "dangling=false"); strings.TrimSpace(out) != "v1" {
				t.Fatalf("ls dangling=false %q", out)
			}
			if out := c.ok("volume", "ls", "--format", "{{.Name}} {{.Driver}} {{.Labels}}", "--filter", "label=team=a"); out != "v1 local team=a\n" {
				t.Fatalf("ls --format %q", out)
			}
			if out := c.ok("volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}}", "v1"); out != "v1 local local\n" {
				t.Fatalf("volume inspect %q", out)
			}
			c.ok("rm", "-f", "ca", "cb")
			if out := c.ok("volume", "rm", "v1"); out != "v1\n" {
				t.Fatalf("rm printed %q", out)
			}
			c.fails(1, "no such volume", "volume", "inspect", "v1")
			c.ok("volume", "rm", "-f", "v1") // force ignores a missing volume
		})
	}
}

// TestVolumeBindTmpfsAndErrors: a bind mount is visible both ways, -v creates a missing host dir,
// a tmpfs is empty after a restart, and bad specifications fail with docker's messages.
func TestVolumeBindTmpfsAndErrors(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			host := t.TempDir()
			if err := os.WriteFile(filepath.Join(host, "in"), []byte("from host\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if out := c.ok("run", "--rm", "-v", host+":/h", "busybox", "sh", "-c", "cat /h/in; echo from container > /h/out"); out != "from host\n" {
				t.Fatalf("container reads host file: %q", out)
			}
			if b, err := os.ReadFile(filepath.Join(host, "out")); err != nil || string(b) != "from container\n" {
				t.Fatalf("host reads container file: %q %v", b, err)
			}
			c.fails(1, "Read-only file system", "run", "--rm", "-v", host+":/h:ro,z", "busybox", "sh", "-c", "echo x > /h/x")
			if out := c.ok("run", "--rm", "--mount", "type=bind,src="+host+",dst=/m,readonly", "busybox", "cat", "/m/in"); out != "from host\n" {
				t.Fatalf("--mount bind %q", out)
			}
			missing := filepath.Join(t.TempDir(), "made", "by", "v")
			c.ok("run", "--rm", "-v", missing+":/x", "busybox", "true")
			if fi, err := os.Stat(missing); err != nil || !fi.IsDir() {
				t.Fatalf("-v did not create the host dir: %v", err)
			}

			c.ok("run", "-d", "--name", "tt", "--mount", "type=tmpfs,dst=/scratch,tmpfs-size=1m", "--tmpfs", "/tmp2:size=2m", "busybox", "sleep", "1000")
			c.ok("exec", "tt", "sh", "-c", "echo x > /scratch/f; echo y > /tmp2/g")
			if out := c.ok("exec", "tt", "sh", "-c", "grep -E ' /(scratch|tmp2) ' /proc/mounts | cut -d' ' -f2,3"); out != "/scratch tmpfs\n/tmp2 tmpfs\n" && out != "/tmp2 tmpfs\n/scratch tmpfs\n" {
				t.Fatalf("tmpfs mounts %q", out)
			}
			c.ok("restart", "-t", "0", "tt")
			if out := c.ok("exec", "tt", "ls", "-A", "/scratch", "/tmp2"); strings.Contains(out, "f") || strings.Contains(out, "g") {
				t.Fatalf("tmpfs kept data across a restart: %q", out)
			}
			c.ok("rm", "-f", "tt")

			c.fails(125, `invalid mount config for type "bind": bind source path does not exist: /nonexistent/src`,
				"run", "--rm", "--mount", "type=bind,src=/nonexistent/src,dst=/x", "busybox", "true")
			c.fails(125, `invalid volume specification: 'foo:bar': invalid mount config for type "volume": invalid mount path: 'bar' mount path must be absolute`,
				"run", "--rm", "-v", "foo:bar", "busybox", "true")
			c.fails(125, `invalid mount config for type "bind": invalid specification: destination can't be '/'`,
				"run", "--rm", "-v", host+":/", "busybox", "true")
			c.fails(125, "Duplicate mount point: /d", "run", "--rm", "-v", "va:/d", "-v", "vb:/d", "busybox", "true")
			c.fails(125, `invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes`,
				"run", "--rm", "--mount", "type=volume,dst=/x,readonly", "busybox", "true")
			if out := c.ok("ps", "-aq"); strings.TrimSpace(out) != "" {
				t.Fatalf("failed creates left containers: %q", out)
			}
		})
	}
}

// TestVolumeCopyUpPruneAndRemove: image VOLUMEs make anonymous volumes, an empty volume is filled
// from the image once and a non-empty one is not, prune removes only unused anonymous volumes (all
// unused ones with -a), and rm -v removes a container's anonymous volumes.
func TestVolumeCopyUpPruneAndRemove(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			c.ok("load", "-q", "-i", harness.Busybox(t, seededImage))

			if out := c.ok("run", "--name", "s1", "seeded", "cat", "/seed/hello.txt"); out != "from image\n" {
				t.Fatalf("anonymous image volume %q", out)
			}
			anon := strings.TrimSpace(c.ok("inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", "s1"))
			if len(anon) != 64 {
				t.Fatalf("anonymous volume name %q", anon)
			}
			if out := c.ok("volume", "inspect", "-f", "{{index .Labels \"com.docker.volume.anonymous\"}}|{{len .Labels}}", anon); out != "|1\n" {
				t.Fatalf("anonymous label %q", out)
			}

			if out := c.ok("run", "--rm", "-v", "cu:/seed", "seeded", "cat", "/seed/hello.txt"); out != "from image\n" {
				t.Fatalf("copy-up into a named volume %q", out)
			}
			if out := c.ok("run", "--rm", "-v", "cu:/data", "busybox", "ls", "-l", "/data/hello.txt"); !strings.HasPrefix(out, "-rw-r--r--") {
				t.Fatalf("copied file, seen from another image: %q", out)
			}
			c.ok("run", "--rm", "-v", "ne:/data", "busybox", "sh", "-c", "echo mine > /data/other")
			if out := c.ok("run", "--rm", "-v", "ne:/seed", "seeded", "ls", "/seed"); out != "other\n" {
				t.Fatalf("non-empty volume was filled: %q", out)
			}
			if out := c.ok("run", "--rm", "--mount", "type=volume,src=nc,dst=/seed,volume-nocopy", "seeded", "ls", "-A", "/seed"); out != "" {
				t.Fatalf("volume-nocopy copied: %q", out)
			}

			// s1 still uses its anonymous volume: nothing is pruned but unused anonymous volumes.
			c.ok("run", "--name", "s2", "seeded", "true")
			anon2 := strings.TrimSpace(c.ok("inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", "s2"))
			c.ok("rm", "s2") // without -v its volume stays, unused
			out := c.ok("volume", "prune", "-f")
			if !strings.Contains(out, anon2) || strings.Contains(out, anon) {
				t.Fatalf("prune output %q (want %s removed, %s kept)", out, anon2, anon)
			}
			have := c.ok("volume", "ls", "-q")
			for _, v := range []string{anon, "cu", "ne", "nc"} {
				if !strings.Contains(have, v) {
					t.Fatalf("prune removed %s: %q", v, have)
				}
			}
			c.ok("rm", "-v", "s1")
			if have := c.ok("volume", "ls", "-q"); strings.Contains(have, anon) {
				t.Fatalf("rm -v kept the anonymous volume: %q", have)
			}
			c.ok("run", "-d", "--name", "user", "-v", "cu:/x", "busybox", "sleep", "1000")
			out = c.ok("volume", "prune", "-a", "-f")
			if !strings.Contains(out, "ne") || !strings.Contains(out, "nc") || strings.Contains(out, "cu\n") {
				t.Fatalf("prune -a output %q", out)
			}
			if have := lines(c.ok("volume", "ls", "-q")); len(have) != 1 || have[0] != "cu" {
				t.Fatalf("after prune -a: %q", have)
			}
			if out := c.ok("system", "df", "-v"); !regexp.MustCompile(`(?m)^cu\s+1\s+11B$`).MatchString(out) {
				t.Fatalf("system df -v volumes: %q", out)
			}
			c.ok("rm", "-f", "user")
		})
	}
}

// TestVolumeVolumesFrom: --volumes-from shares another container's volumes and binds, :ro included.
func TestVolumeVolumesFrom(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			host := t.TempDir()
			c.ok("create", "--name", "data", "-v", "/anon", "-v", "named:/named", "-v", host+":/host", "busybox", "true")
			c.ok("run", "--rm", "--volumes-from", "data", "busybox", "sh", "-c", "echo 1 > /anon/f; echo 2 > /named/f; echo 3 > /host/f")
			if out := c.ok("run", "--rm", "--volumes-from", "data:ro", "busybox", "cat", "/anon/f", "/named/f", "/host/f"); out != "1\n2\n3\n" {
				t.Fatalf("volumes-from read %q", out)
			}
			c.fails(1, "Read-only file system", "run", "--rm", "--volumes-from", "data:ro", "busybox", "sh", "-c", "echo x > /named/g")
			c.ok("rm", "-v", "data")
			if have := lines(c.ok("volume", "ls", "-q")); len(have) != 1 || have[0] != "named" {
				t.Fatalf("rm -v left %q", have)
			}
		})
	}
}

// TestVolumeRefcountsSurviveRestart: references are rebuilt from container records at daemon start.
func TestVolumeRefcountsSurviveRestart(t *testing.T) {
	c := withBusybox(t, harness.Binary(t, "berth"))
	c.ok("run", "-d", "--name", "rr", "-v", "kept:/data", "busybox", "sleep", "1000")
	c.ok("create", "--name", "stopped", "-v", "kept2:/data", "busybox", "true")
	c.d.Restart()
	c.fails(1, "volume is in use", "volume", "rm", "kept")
	c.fails(1, "volume is in use", "volume", "rm", "kept2")
	if out := c.ok("volume", "ls", "-q", "--filter", "dangling=true"); strings.TrimSpace(out) != "" {
		t.Fatalf("dangling after restart: %q", out)
	}
	c.ok("exec", "rr", "sh", "-c", "echo still > /data/f")
	c.ok("rm", "-f", "rr", "stopped")
	c.ok("volume", "rm", "kept", "kept2")
}

// TestVolumeExportImport: berth's export and import round-trip a volume's content, owners kept.
func TestVolumeExportImport(t *testing.T) {
	c := withBusybox(t, harness.Binary(t, "berth"))
	c.ok("run", "--rm", "-v", "src:/d", "busybox", "sh", "-c", "mkdir /d/sub && echo payload > /d/sub/f && chown 5:6 /d/sub/f && ln -s sub/f /d/link")
	tarPath := filepath.Join(t.TempDir(), "src.tar")
	c.ok("volume", "export", "-o", tarPath, "src")
	c.ok("volume", "create", "dst")
	c.ok("volume", "import", "dst", tarPath)
	if out := c.ok("run", "--rm", "-v", "dst:/d", "busybox", "sh", "-c", "cat /d/link; stat -c '%u:%g %a' /d/sub/f"); out != "payload\n5:6 644\n" {
		t.Fatalf("imported content %q", out)
	}
	c.fails(1, "no such volume", "volume", "export", "-o", tarPath, "missing")
}
