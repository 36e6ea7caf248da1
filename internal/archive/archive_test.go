package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

var mtime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// ent is one tar entry; owner defaults to the test process so that tests not
// about ownership also run unprivileged.
type ent struct {
	name, link, body string
	typ              byte
	mode             int64
	uid, gid         int
	owned            bool // use uid/gid as given
	pax              map[string]string
	major, minor     int64
}

func file(name, body string) ent { return ent{name: name, body: body, typ: tar.TypeReg} }
func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir} }
func symlink(name, target string) ent {
	return ent{name: name, link: target, typ: tar.TypeSymlink}
}
func hardlink(name, target string) ent { return ent{name: name, link: target, typ: tar.TypeLink} }

func mkTar(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{
			Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode,
			Uid: os.Getuid(), Gid: os.Getgid(), ModTime: mtime,
			PAXRecords: e.pax, Devmajor: e.major, Devminor: e.minor,
			Format: tar.FormatPAX,
		}
		if e.owned {
			h.Uid, h.Gid = e.uid, e.gid
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if e.typ == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func apply(t testing.TB, dir string, data []byte, opts ApplyOptions) (int64, error) {
	t.Helper()
	return Apply(context.Background(), dir, bytes.NewReader(data), opts)
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lstat(t *testing.T, p string) *unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func TestApplyTree(t *testing.T) {
	needRoot(t)
	d := t.TempDir()
	data := mkTar(t,
		ent{name: "etc/", typ: tar.TypeDir, mode: 0o750, uid: 5, gid: 6, owned: true},
		file("etc/hostname", "box\n"),
		ent{name: "usr/bin/su", body: "ELF", typ: tar.TypeReg, mode: 0o4755, uid: 12, gid: 34, owned: true,
			pax: map[string]string{"SCHILY.xattr.user.note": "hi"}},
		ent{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		ent{name: "abs", link: "/etc/hostname", typ: tar.TypeSymlink, uid: 7, gid: 8, owned: true},
		symlink("rel", "../etc/hostname"),
		hardlink("usr/bin/sudo", "usr/bin/su"),
		file("etc/later", "x"), // written after etc/: must not disturb its mtime
		file("./dot/slash", "ok"),
	)
	n, err := apply(t, d, data, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len("box\n") + len("ELF") + len("x") + len("ok")); n != want {
		t.Errorf("size %d, want %d", n, want)
	}
	if got := readFile(t, filepath.Join(d, "etc/hostname")); got != "box\n" {
		t.Errorf("hostname %q", got)
	}
	if got := readFile(t, filepath.Join(d, "dot/slash")); got != "ok" {
		t.Errorf("dot/slash %q", got)
	}

	st := lstat(t, filepath.Join(d, "etc"))
	if st.Mode&0o7777 != 0o750 || st.Uid != 5 || st.Gid != 6 {
		t.Errorf("etc: mode %o owner %d:%d", st.Mode&0o7777, st.Uid, st.Gid)
	}
	if st.Mtim.Sec != mtime.Unix() {
		t.Errorf("etc mtime %d, want %d", st.Mtim.Sec, mtime.Unix())
	}
	st = lstat(t, filepath.Join(d, "usr"))
	if st.Mode&0o7777 != 0o755 {
		t.Errorf("implicit usr mode %o", st.Mode&0o7777)
	}
	su := lstat(t, filepath.Join(d, "usr/bin/su"))
	if su.Mode&0o7777 != 0o4755 || su.Uid != 12 || su.Gid != 34 || su.Mtim.Sec != mtime.Unix() {
		t.Errorf("su: mode %o owner %d:%d mtime %d", su.Mode&0o7777, su.Uid, su.Gid, su.Mtim.Sec)
	}
	if st := lstat(t, filepath.Join(d, "tmp")); st.Mode&0o7777 != 0o1777 {
		t.Errorf("tmp mode %o", st.Mode&0o7777)
	}
	buf := make([]byte, 16)
	if n, err := unix.Lgetxattr(filepath.Join(d, "usr/bin/su"), "user.note", buf); err == nil {
		if string(buf[:n]) != "hi" {
			t.Errorf("xattr %q", buf[:n])
		}
	} else if !errors.Is(err, unix.ENOTSUP) {
		t.Errorf("getxattr: %v", err)
	}

	sudo := lstat(t, filepath.Join(d, "usr/bin/sudo"))
	if sudo.Ino != su.Ino || sudo.Nlink != 2 {
		t.Errorf("hardlink: ino %d vs %d, nlink %d", sudo.Ino, su.Ino, sudo.Nlink)
	}

	for name, target := range map[string]string{"abs": "/etc/hostname", "rel": "../etc/hostname"} {
		got, err := os.Readlink(filepath.Join(d, name))
		if err != nil || got != target {
			t.Errorf("%s -> %q (%v), want %q", name, got, err, target)
		}
	}
	if st := lstat(t, filepath.Join(d, "abs")); st.Uid != 7 || st.Gid != 8 || st.Mtim.Sec != mtime.Unix() {
		t.Errorf("abs symlink owner %d:%d mtime %d", st.Uid, st.Gid, st.Mtim.Sec)
	}
}

func TestWhiteouts(t *testing.T) {
	needRoot(t)
	d := t.TempDir()
	data := mkTar(t,
		file(".wh.gone", ""),
		dir("opq/"),
		file("opq/.wh..wh..opq", ""),
		file("opq/kept", "k"),
		file("same", "s"),
		file(".wh.same", ""), // OCI: never hides an entry of its own layer
		file("x/.wh..wh.plnk", ""),
	)
	if _, err := apply(t, d, data, ApplyOptions{}); err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			t.Skip("filesystem lacks trusted xattrs:", err)
		}
		t.Fatal(err)
	}
	st := lstat(t, filepath.Join(d, "gone"))
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("whiteout: mode %o rdev %d", st.Mode, st.Rdev)
	}
	buf := make([]byte, 4)
	n, err := unix.Lgetxattr(filepath.Join(d, "opq"), "trusted.overlay.opaque", buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque xattr %q, %v", buf[:n], err)
	}
	if got := readFile(t, filepath.Join(d, "opq/kept")); got != "k" {
		t.Errorf("opq/kept %q", got)
	}
	if got := readFile(t, filepath.Join(d, "same")); got != "s" {
		t.Errorf("same %q", got)
	}
	for _, name := range []string{".wh.gone", "opq/.wh..wh..opq", "x/.wh..wh.plnk"} {
		if _, err := os.Lstat(filepath.Join(d, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s should not exist: %v", name, err)
		}
	}
}

func TestReplace(t *testing.T) {
	d := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("orig"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := mkTar(t,
		file("f2d", "file"), dir("f2d/"), file("f2d/in", "in"),
		dir("d2f/"), file("d2f/child", "c"), file("d2f", "now a file"),
		dir("keep/"), file("keep/a", "a"), ent{name: "keep/", typ: tar.TypeDir, mode: 0o700},
		symlink("s2f", outside), file("s2f", "replaced"),
		file("twice", "one"), file("twice", "two"),
	)
	if _, err := apply(t, d, data, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		"f2d/in": "in", "d2f": "now a file", "keep/a": "a", "s2f": "replaced", "twice": "two",
	} {
		if got := readFile(t, filepath.Join(d, p)); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if st := lstat(t, filepath.Join(d, "keep")); st.Mode&0o777 != 0o700 {
		t.Errorf("keep mode %o", st.Mode&0o777)
	}
	if got := readFile(t, outside); got != "orig" {
		t.Errorf("file behind replaced symlink changed: %q", got)
	}
}

func TestHostile(t *testing.T) {
	dev := ent{name: "null", typ: tar.TypeChar, major: 1, minor: 3}
	cases := []struct {
		name string
		ents func(outside string) []ent
		want string
	}{
		{"dotdot", func(string) []ent { return []ent{file("../sentinel", "pwned")} },
			`layer entry "../sentinel": path escapes the layer root`},
		{"dotdot inner", func(string) []ent { return []ent{file("a/../../sentinel", "pwned")} },
			"path escapes the layer root"},
		{"absolute", func(o string) []ent { return []ent{file(o+"/sentinel", "pwned")} },
			"absolute path"},
		{"through abs symlink", func(o string) []ent {
			return []ent{symlink("a", o), file("a/sentinel", "pwned")}
		}, `layer entry "a/sentinel": parent path traverses a symlink "a"`},
		{"through rel symlink", func(string) []ent {
			return []ent{symlink("a", "../.."), file("a/sentinel", "pwned")}
		}, "parent path traverses a symlink"},
		{"dir through symlink", func(string) []ent {
			return []ent{symlink("a", "../.."), dir("a/evil/")}
		}, "parent path traverses a symlink"},
		{"deep through symlink", func(o string) []ent {
			return []ent{dir("x/"), symlink("x/y", o), file("x/y/z/evil", "pwned")}
		}, `parent path traverses a symlink "x/y"`},
		{"symlink through symlink", func(o string) []ent {
			return []ent{symlink("a", o), symlink("a/evil", "/")}
		}, "parent path traverses a symlink"},
		{"whiteout through symlink", func(o string) []ent {
			return []ent{symlink("a", o), file("a/.wh.evil", "")}
		}, "parent path traverses a symlink"},
		{"opaque through symlink", func(o string) []ent {
			return []ent{symlink("a", o), file("a/.wh..wh..opq", "")}
		}, "parent path traverses a symlink"},
		{"hardlink via symlink", func(o string) []ent {
			return []ent{symlink("a", o), hardlink("b", "a/sentinel")}
		}, "does not appear earlier"},
		{"hardlink via replaced parent", func(o string) []ent {
			// d/f is a real tar entry, but d becomes a symlink before the link.
			return []ent{file("d/sentinel", "x"), symlink("d", o), hardlink("b", "d/sentinel")}
		}, "parent path traverses a symlink"},
		{"hardlink escape", func(string) []ent { return []ent{hardlink("b", "../sentinel")} },
			`layer entry "b": hardlink target "../sentinel": path escapes the layer root`},
		{"hardlink absolute", func(o string) []ent { return []ent{hardlink("b", o+"/sentinel")} },
			"absolute path"},
		{"hardlink missing", func(string) []ent { return []ent{hardlink("b", "nothere")} },
			"does not appear earlier"},
		{"hardlink preexisting", func(string) []ent { return []ent{hardlink("b", "pre")} },
			"does not appear earlier"},
		{"hardlink to dir", func(string) []ent { return []ent{dir("dd/"), hardlink("b", "dd")} },
			"does not appear earlier"},
		{"char device", func(string) []ent { return []ent{dev} }, "device and fifo entries are not allowed"},
		{"block device", func(string) []ent {
			return []ent{{name: "sda", typ: tar.TypeBlock, major: 8}}
		}, "device and fifo entries are not allowed"},
		{"fifo", func(string) []ent { return []ent{{name: "p", typ: tar.TypeFifo}} },
			"device and fifo entries are not allowed"},
		{"parent is file", func(string) []ent { return []ent{file("f", ""), file("f/g", "")} },
			"is not a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// outside/x/layer: "../.." from the layer root lands in outside.
			outside := t.TempDir()
			layer := filepath.Join(outside, "x", "layer")
			if err := os.MkdirAll(layer, 0o755); err != nil {
				t.Fatal(err)
			}
			sentinel := filepath.Join(outside, "sentinel")
			if err := os.WriteFile(sentinel, []byte("orig"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(layer, "pre"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			ents := tc.ents(outside)
			_, err := apply(t, layer, mkTar(t, ents...), ApplyOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("error not classed InvalidArgument: %v", err)
			}
			assertUntouched(t, outside, sentinel)
		})
	}
}

func assertUntouched(t *testing.T, outside, sentinel string) {
	t.Helper()
	if got := readFile(t, sentinel); got != "orig" {
		t.Errorf("sentinel changed: %q", got)
	}
	if n, _ := unix.Lgetxattr(sentinel, "trusted.overlay.opaque", nil); n > 0 {
		t.Error("sentinel got an xattr")
	}
	if n, _ := unix.Lgetxattr(outside, "trusted.overlay.opaque", nil); n > 0 {
		t.Error("outside dir got opaque xattr")
	}
	for d, want := range map[string][]string{outside: {"sentinel", "x"}, filepath.Dir(sentinel) + "/x": {"layer"}} {
		des, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s holds %v, want %v", d, names, want)
		}
	}
}

func TestDevicesAllowed(t *testing.T) {
	needRoot(t)
	d := t.TempDir()
	data := mkTar(t,
		ent{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3},
		ent{name: "dev/fifo", typ: tar.TypeFifo, mode: 0o600},
	)
	if _, err := apply(t, d, data, ApplyOptions{AllowDevices: true}); err != nil {
		t.Fatal(err)
	}
	st := lstat(t, filepath.Join(d, "dev/null"))
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) || st.Mode&0o777 != 0o666 {
		t.Errorf("dev/null mode %o rdev %x", st.Mode, st.Rdev)
	}
	if st := lstat(t, filepath.Join(d, "dev/fifo")); st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("fifo mode %o", st.Mode)
	}
}

func TestSymlinkXattrNotFollowed(t *testing.T) {
	d := t.TempDir()
	outside := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(outside, []byte("orig"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := symlink("l", outside)
	e.pax = map[string]string{"SCHILY.xattr.user.evil": "1"}
	if _, err := apply(t, d, mkTar(t, e), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, _ := unix.Getxattr(outside, "user.evil", nil); n > 0 {
		t.Error("xattr followed the symlink")
	}
}

func TestCorrupt(t *testing.T) {
	full := mkTar(t, file("a", strings.Repeat("x", 5000)), file("b", "y"))
	for name, data := range map[string][]byte{
		"mid content": full[:512+1000],
		"mid header":  full[:100],
		"garbage":     bytes.Repeat([]byte{0xAB}, 1024),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := apply(t, t.TempDir(), data, ApplyOptions{})
			if err == nil || !strings.Contains(err.Error(), "truncated or corrupt layer tar") {
				t.Fatalf("err = %v", err)
			}
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("not InvalidArgument: %v", err)
			}
		})
	}
	// A gzip stream cut short surfaces the same way through Decompress.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(full)
	zw.Close()
	rc, err := Decompress(bytes.NewReader(gz.Bytes()[:gz.Len()/2]))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := Apply(context.Background(), t.TempDir(), rc, ApplyOptions{}); err == nil ||
		!strings.Contains(err.Error(), "truncated or corrupt") {
		t.Fatalf("truncated gzip: err = %v", err)
	}
}

func TestDecompress(t *testing.T) {
	plain := mkTar(t, file("hello", "world"), dir("d/"), file("d/f", strings.Repeat("z", 100000)))
	compressors := map[string]func() []byte{
		"plain": func() []byte { return plain },
		"gzip": func() []byte {
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(plain)
			w.Close()
			return b.Bytes()
		},
		"zstd": func() []byte {
			w, err := zstd.NewWriter(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			return w.EncodeAll(plain, nil)
		},
		"bzip2": func() []byte {
			if _, err := exec.LookPath("bzip2"); err != nil {
				return nil
			}
			cmd := exec.Command("bzip2", "-c")
			cmd.Stdin = bytes.NewReader(plain)
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			return out
		},
	}
	for name, mk := range compressors {
		t.Run(name, func(t *testing.T) {
			data := mk()
			if data == nil {
				t.Skip("no compressor")
			}
			rc, err := Decompress(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			d := t.TempDir()
			n, err := Apply(context.Background(), d, rc, ApplyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := rc.Close(); err != nil {
				t.Fatal(err)
			}
			if n != 5+100000 {
				t.Errorf("size %d", n)
			}
			if got := readFile(t, filepath.Join(d, "hello")); got != "world" {
				t.Errorf("hello = %q", got)
			}
		})
	}
	// An empty stream is an empty layer, not an error.
	rc, err := Decompress(bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := Apply(context.Background(), t.TempDir(), rc, ApplyOptions{}); n != 0 || err != nil {
		t.Errorf("empty: %d, %v", n, err)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Apply(ctx, t.TempDir(), bytes.NewReader(mkTar(t, file("a", "b"))), ApplyOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkApply(b *testing.B) {
	var ents []ent
	for i := range 2000 {
		if i%100 == 0 {
			ents = append(ents, dir(fmt.Sprintf("d%02d/", i/100)))
		}
		ents = append(ents, file(fmt.Sprintf("d%02d/f%04d", i/100, i), strings.Repeat("x", 512+i%2048)))
	}
	data := mkTar(b, ents...)
	base := b.TempDir()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d := filepath.Join(base, fmt.Sprint(i))
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
		if _, err := apply(b, d, data, ApplyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
