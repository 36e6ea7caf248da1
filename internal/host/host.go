// Package host reads facts about the machine berthd runs on (kernel, distribution, CPUs, memory and
// the cgroup hierarchy mode, which decides how containers get their resource limits) and tunes how
// berthd lays out and writes its files there.
package host

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// CgroupMode is how the cgroup hierarchies are mounted.
type CgroupMode string

const (
	CgroupV1     CgroupMode = "v1"
	CgroupHybrid CgroupMode = "hybrid" // v1 controllers plus a v2 hierarchy at /sys/fs/cgroup/unified
	CgroupV2     CgroupMode = "v2"
)

// Facts is what berthd reports in /info and /version.
type Facts struct {
	Kernel          string
	OperatingSystem string
	OSVersion       string
	Architecture    string
	NCPU            int
	MemTotal        int64
	Hostname        string
	Cgroup          CgroupMode
}

// Read gathers the facts; missing sources leave fields at their zero values.
func Read() Facts {
	f := Facts{NCPU: runtime.NumCPU(), Cgroup: DetectCgroupMode("/sys/fs/cgroup")}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		f.Kernel = unix.ByteSliceToString(uts.Release[:])
		f.Architecture = unix.ByteSliceToString(uts.Machine[:])
	}
	f.Hostname, _ = os.Hostname()
	if raw, err := os.ReadFile("/etc/os-release"); err == nil {
		osr := parseOSRelease(string(raw))
		f.OperatingSystem, f.OSVersion = osr["PRETTY_NAME"], osr["VERSION_ID"]
	}
	f.MemTotal = memTotal("/proc/meminfo")
	return f
}

// DetectCgroupMode inspects the filesystem mounted at root (normally /sys/fs/cgroup).
func DetectCgroupMode(root string) CgroupMode {
	var st unix.Statfs_t
	if unix.Statfs(root, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return CgroupV2
	}
	if unix.Statfs(root+"/unified", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return CgroupHybrid
	}
	return CgroupV1
}

func parseOSRelease(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		out[k] = v
	}
	return out
}

func memTotal(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// FilesystemName names the filesystem type holding path, as docker's "Backing Filesystem".
func FilesystemName(path string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return "unknown"
	}
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC:
		return "extfs"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	}
	return "unknown"
}

// HasX32ABI reports whether the running kernel (release as uname gives it) may run x32 programs.
// It is false only when the kernel's build configuration, at /proc/config.gz or
// /boot/config-<release>, says CONFIG_X86_X32_ABI is not set; unknown counts as present.
func HasX32ABI(release string) bool {
	cfg, err := readKernelConfig(release)
	return err != nil || x32InConfig(cfg)
}

func x32InConfig(cfg string) bool {
	return !strings.Contains("\n"+cfg, "\n# CONFIG_X86_X32_ABI is not set\n")
}

func readKernelConfig(release string) (string, error) {
	if f, err := os.Open("/proc/config.gz"); err == nil {
		defer f.Close()
		if zr, err := gzip.NewReader(f); err == nil {
			raw, err := io.ReadAll(zr)
			if err == nil {
				return string(raw), nil
			}
		}
	}
	raw, err := os.ReadFile("/boot/config-" + release)
	return string(raw), err
}
