package e2e

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContainerTopPauseRenameUpdate drives top, pause/unpause, rename and update with the docker CLI.
func TestContainerTopPauseRenameUpdate(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			c.ok("run", "-d", "--name", "t1", "busybox", "sleep", "300")
			if out := c.ok("top", "t1"); !strings.Contains(out, "PID") || !strings.Contains(out, "sleep 300") {
				t.Fatalf("top: %q", out)
			}
			if out := c.ok("top", "t1", "-o", "pid,comm"); !strings.Contains(out, "COMMAND") || !strings.Contains(out, "sleep") {
				t.Fatalf("top -o pid,comm: %q", out)
			}
			c.ok("pause", "t1")
			if out := c.ok("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "t1"); strings.TrimSpace(out) != "paused true" {
				t.Fatalf("after pause: %q", out)
			}
			if _, errOut, code := c.run("", "pause", "t1"); code == 0 || !strings.Contains(errOut, "already paused") {
				t.Fatalf("second pause: %d %q", code, errOut)
			}
			c.ok("unpause", "t1")
			if out := c.ok("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "t1"); strings.TrimSpace(out) != "running false" {
				t.Fatalf("after unpause: %q", out)
			}
			if _, errOut, code := c.run("", "unpause", "t1"); code == 0 || !strings.Contains(errOut, "is not paused") {
				t.Fatalf("unpause of running: %d %q", code, errOut)
			}

			c.ok("create", "--name", "other", "busybox", "true")
			c.ok("rename", "t1", "t2")
			if out := c.ok("ps", "--format", "{{.Names}}"); strings.TrimSpace(out) != "t2" {
				t.Fatalf("ps after rename: %q", out)
			}
			if _, errOut, code := c.run("", "rename", "t2", "other"); code == 0 || !strings.Contains(errOut, "is already in use") {
				t.Fatalf("rename onto a used name: %d %q", code, errOut)
			}
			if _, errOut, code := c.run("", "rename", "t2", "bad name!"); code == 0 || !strings.Contains(errOut, "Invalid container name") {
				t.Fatalf("rename to an invalid name: %d %q", code, errOut)
			}

			c.ok("update", "--memory", "64m", "--memory-swap", "128m", "--pids-limit", "50", "--restart", "always", "t2")
			if out := c.ok("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}", "t2"); strings.TrimSpace(out) != "67108864 50 always" {
				t.Fatalf("inspect after update: %q", out)
			}
			cg := c.ok("exec", "t2", "sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
			if strings.TrimSpace(cg) != "67108864" {
				t.Fatalf("memory limit in cgroup after update: %q", cg)
			}
			// A stopped container can be top'ed no more.
			c.ok("stop", "-t", "1", "t2")
			if _, errOut, code := c.run("", "top", "t2"); code == 0 || !strings.Contains(errOut, "is not running") {
				t.Fatalf("top of stopped: %d %q", code, errOut)
			}
		})
	}
}

// TestCopyWithMounts: cp sees the container's mounts as docker does. Into and out of a named
// volume and a bind while the container runs (where the rootfs underneath would hide them), out
// of its tmpfs while it runs, out of the volume once it has stopped, and a directory archive
// carries the volume's files. A read-only bind refuses a copy with docker's message.
func TestCopyWithMounts(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			bind := filepath.Join(c.dir, "bind")
			os.Mkdir(bind, 0o755)
			c.ok("run", "-d", "--name", "mnt", "-v", "cpvol:/srv/data", "-v", bind+":/ro:ro", "--tmpfs", "/scratch",
				"busybox", "sh", "-c", "echo made > /srv/data/made; echo t > /scratch/t; echo under > /srv/other; sleep 300")
			src := filepath.Join(c.dir, "in.txt")
			os.WriteFile(src, []byte("from host\n"), 0o644)
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(c.ok("exec", "mnt", "ls", "/scratch"), "t") && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}

			c.ok("cp", src, "mnt:/srv/data/")
			if out := c.ok("exec", "mnt", "cat", "/srv/data/in.txt"); out != "from host\n" {
				t.Fatalf("copied into the volume, the container sees %q", out)
			}
			c.ok("cp", src, "mnt:/scratch/")
			if out := c.ok("exec", "mnt", "cat", "/scratch/in.txt"); out != "from host\n" {
				t.Fatalf("copied into the tmpfs, the container sees %q", out)
			}
			out := filepath.Join(c.dir, "out")
			os.Mkdir(out, 0o755)
			c.ok("cp", "mnt:/srv/data/made", out)
			c.ok("cp", "mnt:/scratch/t", out)
			c.ok("cp", "mnt:/srv", out)
			for f, want := range map[string]string{"made": "made\n", "t": "t\n", "srv/data/made": "made\n", "srv/data/in.txt": "from host\n", "srv/other": "under\n"} {
				if b, err := os.ReadFile(filepath.Join(out, f)); err != nil || string(b) != want {
					t.Errorf("copied %s: %q %v, want %q", f, b, err, want)
				}
			}
			if _, errOut, code := c.run("", "cp", src, "mnt:/ro/"); code == 0 || !strings.Contains(errOut, "mounted volume is marked read-only") {
				t.Fatalf("cp into a read-only bind: exit %d %q", code, errOut)
			}
			if _, err := os.Stat(filepath.Join(bind, "in.txt")); err == nil {
				t.Fatal("the copy reached the read-only bind")
			}

			c.ok("stop", "-t", "0", "mnt")
			c.ok("cp", "mnt:/srv/data/in.txt", filepath.Join(out, "stopped.txt"))
			if b, _ := os.ReadFile(filepath.Join(out, "stopped.txt")); string(b) != "from host\n" {
				t.Fatalf("copied out of a stopped container's volume: %q", b)
			}
		})
	}
}

// TestContainerFilesystem covers cp both ways, diff, export, commit and container prune.
func TestContainerFilesystem(t *testing.T) {
	for name, bin := range clis(t) {
		t.Run(name, func(t *testing.T) {
			c := withBusybox(t, bin)
			c.ok("run", "--name", "fs", "busybox", "sh", "-c",
				"echo hi > /newfile && rm /etc/group && mkdir /d && echo x > /d/x && ln -s /etc/shadow /tmp/evil && ln -s / /tmp/root")

			// cp out of a stopped container.
			dst := filepath.Join(c.dir, "out")
			os.Mkdir(dst, 0o755)
			c.ok("cp", "fs:/newfile", dst)
			if b, _ := os.ReadFile(filepath.Join(dst, "newfile")); string(b) != "hi\n" {
				t.Fatalf("copied newfile: %q", b)
			}
			c.ok("cp", "fs:/d", dst)
			if b, _ := os.ReadFile(filepath.Join(dst, "d", "x")); string(b) != "x\n" {
				t.Fatalf("copied dir: %q", b)
			}
			// A symlink is copied as a link; following it stays inside the container.
			c.ok("cp", "fs:/tmp/evil", dst)
			if l, err := os.Readlink(filepath.Join(dst, "evil")); err != nil || l != "/etc/shadow" {
				t.Fatalf("copied symlink: %q %v", l, err)
			}
			host, _ := os.ReadFile("/etc/shadow")
			_, errOut, code := c.run("", "cp", "-L", "fs:/tmp/evil", filepath.Join(dst, "followed"))
			if b, err := os.ReadFile(filepath.Join(dst, "followed")); err == nil && len(host) > 0 && string(b) == string(host) {
				t.Fatalf("cp -L read the host's /etc/shadow")
			}
			if code != 0 && !strings.Contains(errOut, "Could not find the file") {
				t.Fatalf("cp -L of a link to a missing file: %d %q", code, errOut)
			}
			_, _, _ = c.run("", "cp", "fs:/tmp/root/etc/shadow", filepath.Join(dst, "viaroot"))
			if b, err := os.ReadFile(filepath.Join(dst, "viaroot")); err == nil && len(host) > 0 && string(b) == string(host) {
				t.Fatalf("cp through a symlinked parent read the host's /etc/shadow")
			}
			if _, errOut, code := c.run("", "cp", "fs:/nope", dst); code == 0 || !strings.Contains(errOut, "Could not find the file /nope in container fs") {
				t.Fatalf("cp of a missing path: %d %q", code, errOut)
			}

			// cp into the container, then back.
			src := filepath.Join(c.dir, "in.txt")
			os.WriteFile(src, []byte("from host\n"), 0o644)
			c.ok("cp", src, "fs:/d/")
			c.ok("cp", "fs:/d/in.txt", filepath.Join(dst, "back.txt"))
			if b, _ := os.ReadFile(filepath.Join(dst, "back.txt")); string(b) != "from host\n" {
				t.Fatalf("round trip: %q", b)
			}
			if _, errOut, code := c.run("", "cp", src, "fs:/newfile/x"); code == 0 {
				t.Fatalf("cp under a file succeeded: %q", errOut)
			}

			// diff
			diff := c.ok("diff", "fs")
			for _, want := range []string{"A /newfile", "D /etc/group", "C /etc", "A /d", "A /d/x", "A /d/in.txt", "A /tmp/evil"} {
				if !strings.Contains(diff+"\n", want+"\n") {
					t.Errorf("diff lacks %q:\n%s", want, diff)
				}
			}

			// export
			tarPath := filepath.Join(c.dir, "f.tar")
			c.ok("export", "-o", tarPath, "fs")
			names := tarNames(t, tarPath)
			for _, want := range []string{"newfile", "bin/sh", "d/in.txt"} {
				if !names[want] {
					t.Errorf("export lacks %s", want)
				}
			}
			if names["etc/group"] {
				t.Errorf("export has the deleted etc/group")
			}

			// commit, then run the new image.
			id := strings.TrimSpace(c.ok("commit", "-c", "ENV FOO=bar", "-m", "my change", "fs", "committed:1"))
			if !idLine.MatchString(id) {
				t.Fatalf("commit printed %q", id)
			}
			out := c.ok("run", "--rm", "committed:1", "sh", "-c", "cat /newfile /d/x; echo $FOO; test -e /etc/group || echo nogroup")
			if out != "hi\nx\nbar\nnogroup\n" {
				t.Fatalf("run of the committed image: %q", out)
			}
			if hist := c.ok("history", "--no-trunc", "--format", "{{.Comment}}", "committed:1"); !strings.HasPrefix(hist, "my change\n") {
				t.Fatalf("history: %q", hist)
			}

			// prune removes the stopped container but not a running one.
			c.ok("run", "-d", "--name", "alive", "busybox", "sleep", "300")
			out = c.ok("container", "prune", "-f")
			if !strings.Contains(out, "Total reclaimed space") {
				t.Fatalf("prune: %q", out)
			}
			if out := c.ok("ps", "-a", "--format", "{{.Names}}"); strings.TrimSpace(out) != "alive" {
				t.Fatalf("after prune: %q", out)
			}
			c.ok("rm", "-f", "alive")
		})
	}
}

func tarNames(t *testing.T, p string) map[string]bool {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[strings.TrimSuffix(strings.TrimPrefix(hdr.Name, "./"), "/")] = true
	}
}

// TestContainerCopyMountedFiles reads the hostname file the container sees, not the image's.
func TestContainerCopyMountedFiles(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	c.ok("run", "-d", "--name", "hn", "--hostname", "myhost", "busybox", "sleep", "300")
	c.ok("cp", "hn:/etc/hostname", filepath.Join(c.dir, "hostname"))
	if b, _ := os.ReadFile(filepath.Join(c.dir, "hostname")); string(b) != "myhost\n" {
		t.Fatalf("copied hostname: %q", b)
	}
	if out := c.ok("diff", "hn"); out != "" {
		t.Fatalf("diff of an untouched container: %q", out)
	}
	c.ok("rm", "-f", "hn")
}
