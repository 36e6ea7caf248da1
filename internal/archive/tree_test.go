package archive

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCopyTree is the copy-up of an image directory into an empty volume: owners, modes, xattrs,
// symlinks and hard links survive, and a symlink never leads the copy outside the destination.
func TestCopyTree(t *testing.T) {
	src, dst, outside := t.TempDir(), t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(src, "sub"), 0o750)
	os.WriteFile(filepath.Join(src, "sub", "f"), []byte("data"), 0o640)
	os.Chown(filepath.Join(src, "sub", "f"), 7, 8)
	os.Link(filepath.Join(src, "sub", "f"), filepath.Join(src, "hard"))
	os.Symlink(outside, filepath.Join(src, "escape"))
	xattr := unix.Lsetxattr(filepath.Join(src, "sub", "f"), "user.berth", []byte("v"), 0) == nil

	if err := CopyTree(context.Background(), src, dst); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dst, "sub", "f"))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o640 || st.Uid != 7 || st.Gid != 8 {
		t.Fatalf("mode %v owner %d:%d", fi.Mode(), st.Uid, st.Gid)
	}
	if di, _ := os.Stat(filepath.Join(dst, "sub")); di.Mode().Perm() != 0o750 {
		t.Fatalf("dir mode %v", di.Mode())
	}
	if hi, _ := os.Stat(filepath.Join(dst, "hard")); !os.SameFile(fi, hi) {
		t.Fatal("hard link became a copy")
	}
	if l, err := os.Readlink(filepath.Join(dst, "escape")); err != nil || l != outside {
		t.Fatalf("symlink %q %v", l, err)
	}
	if xattr {
		buf := make([]byte, 8)
		if n, err := unix.Lgetxattr(filepath.Join(dst, "sub", "f"), "user.berth", buf); err != nil || string(buf[:n]) != "v" {
			t.Fatalf("xattr %q %v", buf[:n], err)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("copy wrote outside: %v", entries)
	}
}
