package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

// TestDiskFull runs berthd on a 24 MiB tmpfs and fills it: a build whose context does not fit, a
// container that writes until the disk is full, and then a create and a run on the full disk. Each
// gets a clear "no space left on device" and leaves nothing half made; once the space is back,
// everything works again, across a daemon restart too.
func TestDiskFull(t *testing.T) {
	harness.RequireRoot(t)
	full := filepath.Join(t.TempDir(), "full")
	os.Mkdir(full, 0o755)
	if err := unix.Mount("tmpfs", full, "tmpfs", 0, "size=24m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(full, unix.MNT_DETACH) }) // runs after the daemon's cleanup
	dataRoot := filepath.Join(full, "data")
	d := harness.Start(t, "--data-root", dataRoot)
	c := &cli{t: t, bin: dockerCLI(t), d: d, dir: t.TempDir()}
	c.ok("load", "-q", "-i", harness.Busybox(t, fixture.Options{}))
	used := func() int64 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(full, &st); err != nil {
			t.Fatal(err)
		}
		return int64(st.Blocks-st.Bfree) * st.Bsize
	}
	baseline := used()
	leftovers := func(allowed ...string) {
		t.Helper()
		for _, dir := range []string{"containers", "overlay/containers", "overlay/tmp", "build/tmp", "content/ingest"} {
			entries, _ := os.ReadDir(filepath.Join(dataRoot, dir))
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), ".") && !slices.Contains(allowed, e.Name()) {
					t.Errorf("left in %s: %s", dir, e.Name())
				}
			}
		}
	}

	ctx := filepath.Join(c.dir, "ctx")
	os.Mkdir(ctx, 0o755)
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM busybox\nCOPY big.bin /big.bin\n"), 0o644)
	big, _ := os.Create(filepath.Join(ctx, "big.bin"))
	big.Truncate(30 << 20) // sparse on the host, 30 MiB in the build context
	big.Close()
	if _, errOut, code := c.run("", "build", "-t", "big", ctx); code == 0 || !strings.Contains(errOut, "no space left on device") {
		t.Fatalf("build larger than the disk: exit %d %q", code, errOut)
	}
	if out := c.ok("images", "-q", "big"); out != "" {
		t.Fatalf("a failed build left an image: %q", out)
	}
	if grown := used() - baseline; grown > 1<<20 {
		t.Errorf("the failed build left %d bytes behind", grown)
	}
	leftovers()

	filler := strings.TrimSpace(c.ok("run", "-d", "busybox", "sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=100; sleep 300"))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var st syscall.Statfs_t
		if syscall.Statfs(full, &st) == nil && st.Bavail == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the filler did not fill the disk within 30 s")
		}
	}
	for _, args := range [][]string{{"run", "--rm", "busybox", "true"}, {"create", "--name", "late", "busybox", "true"}} {
		if _, errOut, code := c.run("", args...); code != 125 && code != 1 || !strings.Contains(errOut, "no space left on device") {
			t.Fatalf("%v on a full disk: exit %d %q", args, code, errOut)
		}
	}
	if out := strings.Fields(c.ok("ps", "-aq", "--no-trunc")); len(out) != 1 || out[0] != filler {
		t.Fatalf("containers on the full disk: %v, want only the filler", out)
	}
	leftovers(filler)

	c.ok("rm", "-f", filler)
	if grown := used() - baseline; grown > 1<<20 {
		t.Errorf("removing the filler left %d bytes behind", grown)
	}
	if out := c.ok("run", "--rm", "busybox", "echo", "space again"); out != "space again\n" {
		t.Fatalf("run after the space came back: %q", out)
	}
	d.Restart("--data-root", dataRoot)
	if out := c.ok("run", "--rm", "busybox", "echo", "after restart"); out != "after restart\n" {
		t.Fatalf("run after a restart: %q", out)
	}
	if out := c.ok("ps", "-aq"); out != "" {
		t.Fatalf("containers after the restart: %q", out)
	}
	leftovers()
}
