package host

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMkdirSpread(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := MkdirSpread(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		t.Fatalf("stat %s: %v %v", dir, st, err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Skipf("%s has no inode flags: %v", dir, err)
	}
	var fs unix.Statfs_t
	if unix.Fstatfs(fd, &fs) == nil && fs.Type == unix.EXT4_SUPER_MAGIC && flags&fsTopdirFl == 0 {
		t.Errorf("flags %#x of %s lack the top-directory flag on ext4", flags, dir)
	}
	// A second call on an existing directory is fine.
	if err := MkdirSpread(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}
