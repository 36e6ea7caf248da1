package host

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestX32InConfig(t *testing.T) {
	for cfg, want := range map[string]bool{
		"CONFIG_X86_64=y\n# CONFIG_X86_X32_ABI is not set\nCONFIG_IA32_EMULATION=y\n": false,
		"# CONFIG_X86_X32_ABI is not set\n":                                           false,
		"CONFIG_X86_X32_ABI=y\n":                                                      true,
		"CONFIG_ARM64=y\n":                                                            true, // no such option: nothing to leave out
		"# CONFIG_X86_X32_ABI_EXTRA is not set\n":                                     true,
	} {
		if got := x32InConfig(cfg); got != want {
			t.Errorf("x32InConfig(%q) = %v, want %v", cfg, got, want)
		}
	}
}

func TestFavorDynModsRemount(t *testing.T) {
	const systemd = "25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n" +
		"26 30 0:23 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:5 - bpf bpf rw,mode=700\n"
	flags, data, ok := favorDynModsRemount(systemd, "/sys/fs/cgroup")
	want := uintptr(unix.MS_REMOUNT | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME)
	if !ok || flags != want || data != "nsdelegate,memory_recursiveprot,favordynmods" {
		t.Fatalf("systemd's cgroup2: %#x %q %v; want %#x and its options plus favordynmods", flags, data, ok, want)
	}
	const hybrid = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	if flags, data, ok := favorDynModsRemount(hybrid, "/sys/fs/cgroup/unified"); !ok || flags != unix.MS_REMOUNT|unix.MS_RELATIME || data != "favordynmods" {
		t.Fatalf("hybrid unified: %#x %q %v", flags, data, ok)
	}
	for name, info := range map[string]string{
		"v1 only":   "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n",
		"already":   "41 31 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw,favordynmods\n",
		"other dir": "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
	} {
		if _, _, ok := favorDynModsRemount(info, "/sys/fs/cgroup"); ok {
			t.Errorf("%s: asked for a remount", name)
		}
	}
}
