package container

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/snapshot/overlay"
)

func TestResolveInRootStaysInside(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "shadow"), []byte("inside"), 0o600)
	os.Symlink("/etc", filepath.Join(root, "abs"))
	os.Symlink("../../../../../etc", filepath.Join(root, "rel"))
	os.Symlink("/etc/shadow", filepath.Join(root, "link"))
	for _, p := range []string{"/abs/shadow", "/rel/shadow", "../../etc/shadow", "/abs/../../etc/shadow"} {
		rp, err := resolveInRoot(root, p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if rp.host != filepath.Join(root, "etc", "shadow") {
			t.Errorf("%s resolved to %s", p, rp.host)
		}
	}
	// The last element is not followed: the link itself is archived.
	rp, _ := resolveInRoot(root, "/link")
	if rp.host != filepath.Join(root, "link") || rp.name != "link" {
		t.Errorf("/link resolved to %+v", rp)
	}
	s := &Service{}
	c := &Container{Name: "/c1"}
	st, _, err := s.stat(c, root, "/link")
	if err != nil || st.LinkTarget != "/etc/shadow" {
		t.Fatalf("stat of link: %+v %v", st, err)
	}
	if _, _, err := s.stat(c, root, "/nope"); err == nil || err.Error() != "Could not find the file /nope in container c1" {
		t.Fatalf("stat of missing: %v", err)
	}
}

func TestParsePS(t *testing.T) {
	out := "UID   PID  PPID  C STIME TTY  TIME     CMD\n" +
		"root    1     0  0 10:00 ?    00:00:01 /sbin/init splash\n" +
		"root  4242     1  0 10:01 ?    00:00:00 sleep 300\n" +
		"root  4243  4242  0 10:01 ?    00:00:00 sh -c echo a  b\n"
	resp, err := parsePS([]byte(out), []int{4242, 4243})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Titles) != 8 || len(resp.Processes) != 2 {
		t.Fatalf("%+v", resp)
	}
	if got := resp.Processes[1][7]; got != "sh -c echo a b" {
		t.Errorf("command column %q", got)
	}
	if _, err := parsePS([]byte("USER COMMAND\nroot sh\n"), nil); err == nil {
		t.Error("ps output without PID accepted")
	}
}

func tarOf(t *testing.T, hdrs ...*tar.Header) *bytes.Buffer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Typeflag == tar.TypeReg {
			h.Size = 1
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte("x"))
		}
	}
	tw.Close()
	return &buf
}

func TestFilterTar(t *testing.T) {
	dest := t.TempDir()
	os.Mkdir(filepath.Join(dest, "dir"), 0o755)
	os.WriteFile(filepath.Join(dest, "file"), nil, 0o644)
	cases := []struct {
		hdr         *tar.Header
		noOverwrite bool
		bad         bool
	}{
		{&tar.Header{Name: "a/.wh.b", Typeflag: tar.TypeReg, Mode: 0o644}, false, true},
		{&tar.Header{Name: "dir", Typeflag: tar.TypeReg, Mode: 0o644}, true, true},
		{&tar.Header{Name: "file", Typeflag: tar.TypeDir, Mode: 0o755}, true, true},
		{&tar.Header{Name: "dir", Typeflag: tar.TypeReg, Mode: 0o644}, false, false},
		{&tar.Header{Name: "new", Typeflag: tar.TypeReg, Mode: 0o644}, true, false},
	}
	for _, tc := range cases {
		err := filterTar(tarOf(t, tc.hdr), io.Discard, dest, tc.noOverwrite)
		if (err != nil) != tc.bad {
			t.Errorf("%s noOverwrite=%v: err %v", tc.hdr.Name, tc.noOverwrite, err)
		}
	}
}

func TestTarUpperConvertsWhiteouts(t *testing.T) {
	store, err := overlay.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{layers: store}
	c := &Container{ID: "c1"}
	if err := store.CreateRW(c.ID); err != nil {
		t.Fatal(err)
	}
	upper := store.UpperDir(c.ID)
	os.MkdirAll(filepath.Join(upper, "etc"), 0o755)
	os.WriteFile(filepath.Join(upper, "etc", "new"), []byte("n"), 0o644)
	os.WriteFile(filepath.Join(upper, "etc", "hosts"), nil, 0o644) // a runtime mount point: left out
	if err := unix.Mknod(filepath.Join(upper, "etc", "gone"), unix.S_IFCHR|0o600, 0); err != nil {
		t.Skipf("mknod: %v", err)
	}
	os.Mkdir(filepath.Join(upper, "opq"), 0o755)
	opaque := unix.Setxattr(filepath.Join(upper, "opq"), "trusted.overlay.opaque", []byte("y"), 0) == nil

	var buf bytes.Buffer
	if err := s.tarUpper(context.Background(), c, &buf); err != nil {
		t.Fatal(err)
	}
	names := map[string]byte{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[strings.TrimSuffix(h.Name, "/")] = h.Typeflag
	}
	if names["etc/.wh.gone"] != tar.TypeReg || names["etc/new"] != tar.TypeReg || names["etc"] != tar.TypeDir {
		t.Errorf("entries %v", names)
	}
	if _, ok := names["etc/gone"]; ok {
		t.Error("whiteout device archived as is")
	}
	if _, ok := names["etc/hosts"]; ok {
		t.Error("runtime mount point archived")
	}
	if opaque && names["opq/.wh..wh..opq"] != tar.TypeReg {
		t.Errorf("opaque marker missing: %v", names)
	}
}

func TestInLower(t *testing.T) {
	top, bottom := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(bottom, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(bottom, "a", "b", "f"), nil, 0o644)
	os.WriteFile(filepath.Join(bottom, "g"), nil, 0o644)
	os.Mkdir(filepath.Join(top, "a"), 0o755)
	if err := unix.Mknod(filepath.Join(top, "g"), unix.S_IFCHR|0o600, 0); err != nil {
		t.Skipf("mknod: %v", err)
	}
	dirs := []string{top, bottom}
	if !inLower(dirs, "a/b/f") || !inLower(dirs, "a") {
		t.Error("a/b/f should exist below")
	}
	if inLower(dirs, "g") || inLower(dirs, "nope") {
		t.Error("whited-out or missing path reported present")
	}
}
