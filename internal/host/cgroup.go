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
