package tartree

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"
)

func TestHeader(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, []byte("data"), 0o640)
	os.Link(file, filepath.Join(dir, "hard"))
	os.Symlink("f", filepath.Join(dir, "sym"))
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	links := Links{}
	get := func(name string) *tar.Header {
		t.Helper()
		full := filepath.Join(dir, name)
		fi, err := os.Lstat(full)
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := Header(full, "top/"+name, fi, links)
		if err != nil {
			t.Fatal(err)
		}
		return hdr
	}
	if h := get("f"); h.Typeflag != tar.TypeReg || h.Size != 4 || h.Name != "top/f" || h.Uname != "" {
		t.Fatalf("regular file: %+v", h)
	}
	if h := get("hard"); h.Typeflag != tar.TypeLink || h.Linkname != "top/f" || h.Size != 0 {
		t.Fatalf("second link of f: %+v", h)
	}
	if h := get("sym"); h.Typeflag != tar.TypeSymlink || h.Linkname != "f" {
		t.Fatalf("symlink: %+v", h)
	}
	if h := get("d"); h.Typeflag != tar.TypeDir || h.Name != "top/d/" {
		t.Fatalf("directory: %+v", h)
	}
	fi, _ := os.Lstat(filepath.Join(dir, "hard"))
	if h, _ := Header(filepath.Join(dir, "hard"), "x", fi, nil); h.Typeflag != tar.TypeReg {
		t.Fatalf("without Links every file is written whole: %+v", h)
	}
}
