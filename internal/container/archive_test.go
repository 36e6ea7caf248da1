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
	st, _, err := s.stat(c, &pathView{root: root}, "/link")
	if err != nil || st.LinkTarget != "/etc/shadow" {
		t.Fatalf("stat of link: %+v %v", st, err)
	}
	if _, _, err := s.stat(c, &pathView{root: root}, "/nope"); err == nil || err.Error() != "Could not find the file /nope in container c1" {
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
	eachEntry(t, &buf, func(h *tar.Header, _ []byte) { names[strings.TrimSuffix(h.Name, "/")] = h.Typeflag })
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

// TestPathViewMounts: paths under a mount resolve inside the mount's source (symlinks in it
// included, and none leads out of it), and an archive of a directory holding mounts, nested
// ones too, carries the mounts' content instead of what lies beneath them in the rootfs.
func TestPathViewMounts(t *testing.T) {
	base := t.TempDir()
	root, vol, inner := filepath.Join(base, "root"), filepath.Join(base, "vol"), filepath.Join(base, "inner")
	for _, d := range []string{root + "/srv/data/sub", root + "/etc", vol + "/v2", vol + "/sub", inner} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(root+"/srv/data/hidden", []byte("under the mount"), 0o644)
	os.WriteFile(root+"/srv/top", []byte("top"), 0o644)
	os.WriteFile(root+"/etc/passwd", []byte("root"), 0o644)
	os.WriteFile(vol+"/v2/file", []byte("in volume"), 0o644)
	os.Symlink("v2", vol+"/cur")
	os.Symlink("/etc", vol+"/abs") // absolute: resolved inside the volume, not the rootfs
	os.WriteFile(inner+"/deep", []byte("nested"), 0o644)
	os.Symlink("/srv/data", root+"/link")
	v := &pathView{root: root, mounts: []viewMount{{dest: "/srv/data/sub", src: inner}, {dest: "/srv/data", src: vol, rw: true}}}

	for p, want := range map[string]string{
		"/srv/data/cur/file": vol + "/v2/file",
		"/link/cur/file":     vol + "/v2/file",
		"/srv/data":          vol,
		"/srv/data/sub/deep": inner + "/deep",
		"/srv/data/abs/x":    vol + "/etc/x",
		"/srv/top":           root + "/srv/top",
	} {
		rp, _, err := v.resolve(p)
		if err != nil || rp.host != want {
			t.Errorf("resolve(%s) = %s, %v; want %s", p, rp.host, err, want)
		}
	}
	s, c := &Service{}, &Container{Name: "/c1"}
	if st, _, err := s.stat(c, v, "/srv/data/cur"); err != nil || st.LinkTarget != "/srv/data/v2" {
		t.Errorf("stat of a symlink in a mount: %+v %v", st, err)
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := writeView(context.Background(), tw, v, root+"/srv", "/srv", "srv"); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	got := map[string]string{}
	eachEntry(t, &buf, func(hdr *tar.Header, body []byte) {
		if _, dup := got[hdr.Name]; dup {
			t.Errorf("entry %s written twice", hdr.Name)
		}
		got[hdr.Name] = string(body)
	})
	for name, body := range map[string]string{"srv/top": "top", "srv/data/v2/file": "in volume", "srv/data/sub/deep": "nested"} {
		if got[strings.TrimSuffix(name, "/")] != body {
			t.Errorf("%s: %q, want %q (entries %v)", name, got[name], body, got)
		}
	}
	if _, ok := got["srv/data/hidden"]; ok {
		t.Error("the rootfs content beneath a mount was archived")
	}
	for _, dir := range []string{"srv/data/", "srv/data/sub/"} {
		if _, ok := got[dir]; !ok {
			if _, ok := got[strings.TrimSuffix(dir, "/")]; !ok {
				t.Errorf("no entry for the mount point %s (entries %v)", dir, got)
			}
		}
	}
}

// eachEntry calls fn with every entry of the tar r and its content.
func eachEntry(t *testing.T, r io.Reader, fn func(*tar.Header, []byte)) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		fn(hdr, body)
	}
}
