package volume

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

// DefaultDriver is the only volume driver berth has: data in a directory of the data root, or a
// filesystem mounted there from the type/device/o options.
const DefaultDriver = "local"

// AnonymousLabel marks volumes made for a container rather than by name, as docker marks them.
const AnonymousLabel = "com.docker.volume.anonymous"

var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// ValidateName applies docker's rule for local volume names.
func ValidateName(name string) error {
	if !validName.MatchString(name) {
		return errdefs.InvalidArgumentf("%q includes invalid characters for a local volume name, only %q are allowed. If you intended to pass a host directory, use absolute path", name, "[a-zA-Z0-9][a-zA-Z0-9_.-]")
	}
	return nil
}

// validateOptions checks the local driver's options as docker's does.
func validateOptions(opts map[string]string) error {
	for k := range opts {
		switch k {
		case "type", "device", "o":
		case "size":
			return errdefs.InvalidArgumentf("quota size requested but no quota support")
		default:
			return errdefs.InvalidArgumentf("invalid option: %q", k)
		}
	}
	typ, dev := opts["type"], opts["device"]
	switch {
	case typ != "" && dev == "":
		return errdefs.InvalidArgumentf("missing required option: \"device\"")
	case typ == "" && dev != "":
		return errdefs.InvalidArgumentf("missing required option: \"type\"")
	case typ == "" && opts["o"] != "":
		return errdefs.InvalidArgumentf("missing required option: \"type\"")
	}
	return nil
}

// needsMount reports whether the volume is a filesystem mounted at use rather than a plain directory.
func needsMount(opts map[string]string) bool { return opts["type"] != "" || opts["device"] != "" }

// mountFlags are the words of the "o" option that are mount(2) flags; the rest is filesystem data.
var mountFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"nosuid": {false, unix.MS_NOSUID}, "suid": {true, unix.MS_NOSUID},
	"nodev": {false, unix.MS_NODEV}, "dev": {true, unix.MS_NODEV},
	"noexec": {false, unix.MS_NOEXEC}, "exec": {true, unix.MS_NOEXEC},
	"sync": {false, unix.MS_SYNCHRONOUS}, "async": {true, unix.MS_SYNCHRONOUS},
	"dirsync": {false, unix.MS_DIRSYNC}, "remount": {false, unix.MS_REMOUNT},
	"mand": {false, unix.MS_MANDLOCK}, "nomand": {true, unix.MS_MANDLOCK},
	"atime": {true, unix.MS_NOATIME}, "noatime": {false, unix.MS_NOATIME},
	"diratime": {true, unix.MS_NODIRATIME}, "nodiratime": {false, unix.MS_NODIRATIME},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"bind": {false, unix.MS_BIND}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
	"defaults": {false, 0},
}

// parseMountOptions splits an "o" value into mount(2) flags and the filesystem's data string.
func parseMountOptions(o string) (uintptr, string) {
	var flags uintptr
	var data []string
	for _, w := range strings.Split(o, ",") {
		if w == "" {
			continue
		}
		if f, ok := mountFlags[w]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		data = append(data, w)
	}
	return flags, strings.Join(data, ",")
}

// mountDevice mounts the volume's filesystem on target as the local driver's options describe.
func mountDevice(opts map[string]string, target string) error {
	flags, data := parseMountOptions(opts["o"])
	dev := opts["device"]
	if flags&unix.MS_BIND != 0 {
		if _, err := os.Stat(dev); err != nil {
			return errdefs.InvalidArgumentf("bind device %s: %v", dev, err)
		}
	}
	if err := unix.Mount(dev, target, opts["type"], flags, data); err != nil {
		return fmt.Errorf("mount %s (type %s, options %q) on %s: %w", dev, opts["type"], opts["o"], target, err)
	}
	return nil
}

// isMountpoint reports whether path is listed in this process's mount table.
func isMountpoint(path string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && unescapeMountinfo(fields[4]) == path {
			return true
		}
	}
	return false
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of /proc/self/mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var n int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%o", &n); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
