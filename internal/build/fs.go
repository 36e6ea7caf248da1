package build

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// lookupImage finds rel (slash-separated, no leading slash) in the image of st, top layer first;
// a whiteout hides what is below. Opaque directories are not considered: the builder only asks
// about paths it is about to write.
func (b *builder) lookupImage(st *state, rel string) (os.FileInfo, string, bool) {
	if st.img == nil || rel == "" {
		return nil, "", false
	}
	chain := st.img.Chain
	for i := len(chain) - 1; i >= 0; i-- {
		dir := b.s.layers.DiffDir(chain[i])
		for anc := path.Dir(rel); anc != "."; anc = path.Dir(anc) {
			if fi, err := os.Lstat(filepath.Join(dir, anc)); err == nil && isWhiteout(fi) {
				return nil, "", false
			}
		}
		full := filepath.Join(dir, rel)
		if fi, err := os.Lstat(full); err == nil {
			if isWhiteout(fi) {
				return nil, "", false
			}
			return fi, full, true
		}
	}
	return nil, "", false
}

func isWhiteout(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.Mode()&os.ModeCharDevice != 0 && st.Rdev == 0
}

func (b *builder) exists(st *state, abs string) bool {
	_, _, ok := b.lookupImage(st, strings.TrimPrefix(path.Clean(abs), "/"))
	return ok
}

// readImageFile reads a small file of the image of st, such as /etc/passwd; nil when absent.
func (b *builder) readImageFile(st *state, abs string) []byte {
	fi, full, ok := b.lookupImage(st, strings.TrimPrefix(abs, "/"))
	if !ok || !fi.Mode().IsRegular() {
		return nil
	}
	raw, _ := os.ReadFile(full)
	return raw
}

// dirHeader is a tar entry for directory rel: as the image has it, or new (0755, root).
func (b *builder) dirHeader(st *state, rel string, mtime time.Time) *tar.Header {
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: rel + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}
	if fi, _, ok := b.lookupImage(st, rel); ok && fi.IsDir() {
		hdr.Mode = int64(fi.Mode().Perm())
		hdr.ModTime = fi.ModTime()
		if s, ok := fi.Sys().(*syscall.Stat_t); ok {
			hdr.Uid, hdr.Gid = int(s.Uid), int(s.Gid)
			hdr.Mode |= int64(s.Mode & (syscall.S_ISUID | syscall.S_ISGID | syscall.S_ISVTX))
		}
	}
	return hdr
}

// writeParents writes entries for the directories above rel, keeping the image's metadata for
// those it has, so the layer does not change them.
func (b *builder) writeParents(tw *tar.Writer, st *state, rel string, written map[string]bool) error {
	var parents []string
	for anc := path.Dir(rel); anc != "." && anc != "/"; anc = path.Dir(anc) {
		parents = append([]string{anc}, parents...)
	}
	for _, p := range parents {
		if written[p] {
			continue
		}
		written[p] = true
		if err := tw.WriteHeader(b.dirHeader(st, p, time.Now())); err != nil {
			return err
		}
	}
	return nil
}

// mkdirLayer makes a layer holding directory abs and its missing parents.
func (b *builder) mkdirLayer(st *state, abs string) func(context.Context) (io.Reader, func(), error) {
	return func(context.Context) (io.Reader, func(), error) {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		rel := strings.TrimPrefix(abs, "/")
		if err := b.writeParents(tw, st, rel, map[string]bool{}); err != nil {
			return nil, nil, err
		}
		if err := tw.WriteHeader(b.dirHeader(st, rel, time.Now())); err != nil {
			return nil, nil, err
		}
		if err := tw.Close(); err != nil {
			return nil, nil, err
		}
		return &buf, func() {}, nil
	}
}
