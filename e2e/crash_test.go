package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDaemonKilledDuringContainerChurn kills berthd with SIGKILL while containers and networks are
// being created, started and removed, three times. After each restart every container it lists
// can be inspected and removed, and once they are all gone nothing is left behind: no container
// records, writable layers, bundle or shim directories, network namespaces, bridges or mounts.
func TestDaemonKilledDuringContainerChurn(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	for round := range 3 {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var created sync.Map // network IDs seen, whose bridges must all be gone in the end
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("churn%d-%d", round, i)
				if out, _, code := c.run("", "network", "create", name); code == 0 {
					created.Store(strings.TrimSpace(out), true)
					c.run("", "network", "rm", name)
				}
			}
		}()
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if out, _, code := c.run("", "run", "-d", "busybox", "sleep", "300"); code == 0 {
						c.run("", "rm", "-f", strings.TrimSpace(out))
					}
				}
			}()
		}
		time.Sleep(time.Duration(400+rand.IntN(800)) * time.Millisecond)
		c.d.Kill()
		close(stop)
		wg.Wait()
		c.d.Restart()

		for _, n := range strings.Fields(c.ok("network", "ls", "-q", "--filter", "name=churn")) {
			c.ok("network", "rm", n)
		}
		created.Range(func(id, _ any) bool {
			if br := "br-" + id.(string)[:12]; linkExists(br) {
				t.Errorf("round %d: bridge %s of a removed network is left", round, br)
			}
			return true
		})

		ids := strings.Fields(c.ok("ps", "-aq"))
		for _, id := range ids {
			c.ok("inspect", id)
		}
		if len(ids) > 0 {
			c.ok(append([]string{"rm", "-f"}, ids...)...)
		}
		if out := c.ok("ps", "-aq"); out != "" {
			t.Fatalf("round %d: containers after rm -f of all: %q", round, out)
		}
		for _, dir := range []string{
			filepath.Join(c.d.DataRoot(), "containers"), filepath.Join(c.d.DataRoot(), "overlay", "containers"),
			filepath.Join(c.d.Dir, "exec", "containers"), filepath.Join(c.d.Dir, "exec", "network", "netns"),
		} {
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("round %d: %s still holds %v", round, dir, names)
			}
		}
		// No container may run on unseen: every shim of this daemon ends with its container.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			shims := shimsUnder(c.d.Dir)
			if len(shims) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: shims still running after every container was removed: %v", round, shims)
			}
		}
		mounts, _ := os.ReadFile("/proc/self/mountinfo")
		for _, line := range strings.Split(string(mounts), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], c.d.Dir+"/") {
				t.Errorf("round %d: mount left: %s", round, f[4])
			}
		}
	}
	c.ok("run", "--rm", "busybox", "true")
}

// shimsUnder lists the berth-shim processes whose state directory is below dir.
func shimsUnder(dir string) []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmd, "berth-shim") && strings.Contains(cmd, "--state-dir "+dir+"/") {
			out = append(out, filepath.Base(filepath.Dir(p)))
		}
	}
	return out
}

func linkExists(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name)
	return err == nil
}

// TestConcurrentVolumeImageChurn: volume create/rm, runs that mount them, and tag/rmi of the
// image those runs use, all at once. It once deadlocked: rmi asked which containers use the image
// from inside its metadata transaction, while a starting container held its lock waiting for the
// volume service, which waited for the metadata store.
func TestConcurrentVolumeImageChurn(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	var wg sync.WaitGroup
	deadline := time.Now().Add(4 * time.Second)
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				v := fmt.Sprintf("churn%d-%d", w, i)
				c.run("", "volume", "create", v)
				c.run("", "run", "--rm", "-v", v+":/d", "busybox", "touch", "/d/x")
				c.run("", "volume", "rm", v)
				c.run("", "tag", "busybox", "churn"+v)
				c.run("", "rmi", "churn"+v)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		c.d.Dump() // goroutine stacks into the daemon's log, printed with the failure
		<-done     // with the daemon gone, the workers' commands fail at once
		t.Fatal("volume and image operations still stuck 90 s after the churn ended")
	}
	if out := c.ok("volume", "ls", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("volumes left: %q", out)
	}
}
