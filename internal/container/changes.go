package container

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/archive"
)

// runtimeFiles are the mount points the runtime creates in the rootfs; docker hides them in an init
// layer, so they are neither changes nor committed.
var runtimeFiles = map[string]bool{
	"etc/hostname": true, "etc/hosts": true, "etc/resolv.conf": true, ".dockerenv": true,
}

// onlyMountPoints reports whether upper directory full holds nothing but runtime mount points, so
// it is in the writable layer only because the runtime created them.
func onlyMountPoints(full, rel string) bool {
	entries, err := os.ReadDir(full)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !runtimeFiles[path.Join(rel, e.Name())] {
			return false
		}
	}
	return true
}

func isWhiteout(fi os.FileInfo) bool {
	if fi.Mode()&os.ModeCharDevice == 0 || fi.Mode()&os.ModeDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Rdev == 0
}

func isOpaque(full string) bool {
	buf := make([]byte, 1)
	n, err := unix.Lgetxattr(full, "trusted.overlay.opaque", buf)
	return err == nil && n == 1 && buf[0] == 'y'
}

// inLower reports whether rel exists in the image layers (dirs top first), honouring whiteouts
// and opaque directories.
func inLower(dirs []string, rel string) bool {
	for _, d := range dirs {
		// An opaque or whited-out ancestor hides everything below it in the lower layers.
		hidden := false
		for anc := path.Dir(rel); anc != "." && anc != "/"; anc = path.Dir(anc) {
			if fi, err := os.Lstat(filepath.Join(d, anc)); err == nil && isWhiteout(fi) {
				return false
			}
		}
		fi, err := os.Lstat(filepath.Join(d, rel))
		if err == nil {
			return !isWhiteout(fi)
		}
		for anc := path.Dir(rel); anc != "." && anc != "/"; anc = path.Dir(anc) {
			if isOpaque(filepath.Join(d, anc)) {
				hidden = true
			}
		}
		if hidden {
			return false
		}
	}
	return false
}

func (s *Service) lowerDirs(ctx context.Context, c *Container) ([]string, error) {
	img, err := s.images.Get(ctx, c.Image.String())
	if err != nil {
		return nil, err
	}
	return lowerDirsOf(s, img.Chain), nil
}

func lowerDirsOf(s *Service, chain []digest.Digest) []string {
	dirs := make([]string, 0, len(chain))
	for i := len(chain) - 1; i >= 0; i-- {
		dirs = append(dirs, s.layers.DiffDir(chain[i]))
	}
	return dirs
}

// Changes lists what the container changed in its image's filesystem.
func (s *Service) Changes(ctx context.Context, ref string) ([]container.FilesystemChange, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	lower, err := s.lowerDirs(ctx, c)
	if err != nil {
		return nil, err
	}
	upper := s.layers.UpperDir(c.ID)
	out := []container.FilesystemChange{}
	err = filepath.Walk(upper, func(full string, fi os.FileInfo, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		rel, _ := filepath.Rel(upper, full)
		rel = filepath.ToSlash(rel)
		if rel == "." || runtimeFiles[rel] || (fi.IsDir() && rel == "etc" && onlyMountPoints(full, rel)) {
			return nil
		}
		kind := container.ChangeAdd
		switch {
		case isWhiteout(fi):
			kind = container.ChangeDelete
		case inLower(lower, rel):
			kind = container.ChangeModify
		}
		out = append(out, container.FilesystemChange{Kind: kind, Path: "/" + rel})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// tarUpper writes the container's writable layer as an image layer tar: overlay whiteouts become
// ".wh." files and opaque directories get a ".wh..wh..opq" entry.
func (s *Service) tarUpper(ctx context.Context, c *Container, w io.Writer) error {
	upper := s.layers.UpperDir(c.ID)
	tw := tar.NewWriter(w)
	err := archive.WriteTree(ctx, tw, upper, "", func(rel string, fi os.FileInfo, hdr *tar.Header) (*tar.Header, error) {
		rel = filepath.ToSlash(rel)
		if runtimeFiles[rel] || (fi.IsDir() && rel == "etc" && onlyMountPoints(filepath.Join(upper, rel), rel)) {
			return nil, nil
		}
		if isWhiteout(fi) {
			return &tar.Header{
				Typeflag: tar.TypeReg, Name: path.Join(path.Dir(rel), ".wh."+path.Base(rel)), Mode: 0o600,
				ModTime: fi.ModTime(), Format: tar.FormatPAX,
			}, nil
		}
		if fi.IsDir() && isOpaque(filepath.Join(upper, rel)) {
			// The marker follows the directory entry, so it is written here and the directory entry returned.
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, err
			}
			return &tar.Header{
				Typeflag: tar.TypeReg, Name: path.Join(rel, ".wh..wh..opq"), Mode: 0o600,
				ModTime: fi.ModTime(), Format: tar.FormatPAX,
			}, nil
		}
		return hdr, nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// LayerTar writes the container's changes as the image layer tar commit would store; the builder
// makes a RUN step's layer from it.
func (s *Service) LayerTar(ctx context.Context, ref string, w io.Writer) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	return s.tarUpper(ctx, c, w)
}
