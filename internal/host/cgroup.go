package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// UnbindUnifiedControllers makes a hybrid host acceptable to crun, which refuses to run while any
// controller is bound to the v2 hierarchy (root/unified) because it cannot tell which hierarchy
// should limit the container. Controllers that v2 does not use (none enabled in its
// subtree_control) are mounted as v1 hierarchies at root/<name>, as cgroupfs-mount does; the
// kernel then moves them off v2. It returns the controllers moved; on a v1 or v2 host, or with
// nothing bound to v2, it does nothing.
func UnbindUnifiedControllers(root string) ([]string, error) {
	if DetectCgroupMode(root) != CgroupHybrid {
		return nil, nil
	}
	unified := filepath.Join(root, "unified")
	raw, err := os.ReadFile(filepath.Join(unified, "cgroup.controllers"))
	if err != nil {
		return nil, err
	}
	controllers := strings.Fields(string(raw))
	if len(controllers) == 0 {
		return nil, nil
	}
	if used, _ := os.ReadFile(filepath.Join(unified, "cgroup.subtree_control")); len(strings.Fields(string(used))) > 0 {
		return nil, fmt.Errorf("cgroup v2 controllers %s are in use on %s; crun cannot run on this hybrid host", strings.Fields(string(used)), unified)
	}
	var moved []string
	for _, c := range controllers {
		dir := filepath.Join(root, c)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return moved, err
		}
		if err := unix.Mount("cgroup", dir, "cgroup", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, c); err != nil {
			return moved, fmt.Errorf("mount the %s controller as cgroup v1 at %s: %w", c, dir, err)
		}
		moved = append(moved, c)
	}
	return moved, nil
}

// FavorDynMods remounts the cgroup v2 hierarchy under root (root itself on a v2 host, root/unified
// on a hybrid one) with favordynmods (Linux 6.0 and later), keeping its other options. Every
// container start moves its first process into cgroups, and the first such move after a quiet
// spell waits for an RCU grace period (about 20 ms on a small VM) before it may take the lock that
// guards forks; the option keeps that lock ready for writers at the cost of slightly dearer forks
// and exits. The lock is shared by all hierarchies, so the v2 one suffices on a hybrid host too.
// It reports whether it changed the mount; a v1-only host has nothing it can change.
func FavorDynMods(root string) (bool, error) {
	target := root
	if DetectCgroupMode(root) == CgroupHybrid {
		target = filepath.Join(root, "unified")
	}
	raw, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	flags, data, ok := favorDynModsRemount(string(raw), target)
	if !ok {
		return false, nil
	}
	if err := unix.Mount("", target, "", flags, data); err != nil {
		return false, fmt.Errorf("remount %s with favordynmods: %w", target, err)
	}
	return true, nil
}

// favorDynModsRemount finds the cgroup2 mount at target in mountinfo and returns the mount(2)
// flags and data that remount it with favordynmods and nothing else changed; ok is false when
// there is no such mount or it has the option already.
func favorDynModsRemount(mountinfo, target string) (flags uintptr, data string, ok bool) {
	perMount := map[string]uintptr{
		"ro": unix.MS_RDONLY, "nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV, "noexec": unix.MS_NOEXEC,
		"noatime": unix.MS_NOATIME, "nodiratime": unix.MS_NODIRATIME, "relatime": unix.MS_RELATIME,
	}
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, found := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !found || len(f) < 6 || len(g) < 3 || f[4] != target || g[0] != "cgroup2" {
			continue
		}
		flags = unix.MS_REMOUNT
		for _, o := range strings.Split(f[5], ",") {
			flags |= perMount[o]
		}
		var opts []string
		for _, o := range strings.Split(g[2], ",") {
			switch o {
			case "favordynmods":
				return 0, "", false
			case "rw", "ro":
			default:
				opts = append(opts, o)
			}
		}
		return flags, strings.Join(append(opts, "favordynmods"), ","), true
	}
	return 0, "", false
}
