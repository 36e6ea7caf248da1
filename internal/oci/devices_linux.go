package oci

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// These are the host lookups behind Input.LookupDevices and
// Input.DeviceNumbers; they live apart from Generate, which stays pure.

// skipDevDirs are the /dev subtrees that are per-container or not device
// nodes at all; the runtime sets up its own pts, shm and mqueue.
var skipDevDirs = map[string]bool{
	"pts": true, "shm": true, "fd": true, "mqueue": true,
	".lxc": true, ".lxd-mounts": true, ".udev": true,
}

var errNotDevice = errors.New("not a device node")

// deviceAt describes the device node at p without following a final
// symlink.
func deviceAt(p string) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return specs.LinuxDevice{}, &fs.PathError{Op: "lstat", Path: p, Err: err}
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	case unix.S_IFIFO:
		typ = "p"
	default:
		return specs.LinuxDevice{}, errNotDevice
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path:     p,
		Type:     typ,
		Major:    int64(unix.Major(st.Rdev)),
		Minor:    int64(unix.Minor(st.Rdev)),
		FileMode: &mode,
		UID:      &uid,
		GID:      &gid,
	}, nil
}

// HostDevices lists the device nodes at hostPath: the node itself (symlinks
// resolved, as docker does for --device), or every node beneath a
// directory, skipping the /dev subtrees a container gets fresh and
// /dev/console, which the runtime provides.
func HostDevices(hostPath string) ([]specs.LinuxDevice, error) {
	resolved, err := filepath.EvalSymlinks(hostPath)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(resolved)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		d, err := deviceAt(resolved)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", hostPath, err)
		}
		d.Path = filepath.Clean(hostPath)
		return []specs.LinuxDevice{d}, nil
	}
	var out []specs.LinuxDevice
	err = filepath.WalkDir(resolved, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == resolved {
				return err
			}
			return nil // a node vanished or is unreadable: skip it
		}
		if e.IsDir() {
			if p != resolved && skipDevDirs[e.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if e.Name() == "console" || e.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		d, err := deviceAt(p)
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(resolved, p)
		d.Path = filepath.Join(hostPath, rel)
		out = append(out, d)
		return nil
	})
	return out, err
}

// HostDeviceNumbers returns the major and minor numbers of the device node
// at p (following symlinks), for blkio weight and throttle entries.
func HostDeviceNumbers(p string) (major, minor int64, err error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return 0, 0, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	if m := st.Mode & unix.S_IFMT; m != unix.S_IFBLK && m != unix.S_IFCHR {
		return 0, 0, fmt.Errorf("%s: %w", p, errNotDevice)
	}
	return int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev)), nil
}
