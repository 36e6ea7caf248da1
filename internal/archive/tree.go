package archive

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/tartree"
)

// RewriteFunc may replace an entry WriteTree is about to write, or drop it by returning a nil header.
type RewriteFunc func(rel string, fi os.FileInfo, hdr *tar.Header) (*tar.Header, error)

// WriteTree writes src (never following symlinks) as entries under prefix; an empty prefix writes the
// directory's contents at the top. Owners, modes, times, xattrs (but overlayfs' own) and hard links
// within the tree are kept. rewrite, if set, may replace or drop an entry.
func WriteTree(ctx context.Context, tw *tar.Writer, src, prefix string, rewrite RewriteFunc) error {
	inodes := tartree.Links{}
	return filepath.Walk(src, func(full string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, full)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if prefix != "" {
			name = path.Join(prefix, name)
		} else if name == "." {
			return nil
		}
		hdr, err := tartree.Header(full, name, fi, inodes)
		if err != nil {
			return err
		}
		if err := addXattrs(full, hdr); err != nil {
			return fmt.Errorf("archive %s: %w", rel, err)
		}
		if rewrite != nil {
			if hdr, err = rewrite(rel, fi, hdr); err != nil || hdr == nil {
				return err
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
			f, err := os.OpenFile(full, os.O_RDONLY|unix.O_NOFOLLOW, 0)
			if err != nil {
				return err
			}
			_, err = io.CopyN(tw, f, hdr.Size)
			f.Close()
			if err != nil {
				return fmt.Errorf("archive %s: %w", rel, err)
			}
		}
		return nil
	})
}

// addXattrs records the extended attributes of full as PAX records. overlayfs' trusted.overlay.*
// attributes describe the layer store itself, not the file, so they are left out.
func addXattrs(full string, hdr *tar.Header) error {
	size, err := unix.Llistxattr(full, nil)
	if err != nil || size <= 0 {
		return nil // no xattr support is no xattrs
	}
	buf := make([]byte, size)
	if size, err = unix.Llistxattr(full, buf); err != nil {
		return nil
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:size]), "\x00"), "\x00") {
		if name == "" || strings.HasPrefix(name, overlayXattrPrefix) {
			continue
		}
		n, err := unix.Lgetxattr(full, name, nil)
		if err != nil {
			continue // removed meanwhile
		}
		val := make([]byte, n)
		if n, err = unix.Lgetxattr(full, name, val); err != nil {
			continue
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords[paxXattrPrefix+name] = string(val[:n])
		hdr.Format = tar.FormatPAX
	}
	return nil
}

// CopyTree copies the contents of directory src into the existing directory dst, keeping owners,
// modes, times, xattrs, hard links, symlinks and device nodes. It streams through the same tar
// writer and applier as archives do, so a symlink in src can never make it write outside dst.
func CopyTree(ctx context.Context, src, dst string) error {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := WriteTree(ctx, tw, src, "", nil)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	_, err := Apply(ctx, dst, pr, ApplyOptions{AllowDevices: true})
	pr.CloseWithError(err)
	return err
}
