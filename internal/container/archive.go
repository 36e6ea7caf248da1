package container

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
)

// withRootfs runs fn on the container's mounted root filesystem, mounting it for the call when the
// container is not running. A stopped container stays locked meanwhile so a start cannot race the unmount.
func (s *Service) withRootfs(ctx context.Context, c *Container, fn func(root string) error) error {
	c.mu.Lock()
	if c.State.Running {
		c.mu.Unlock()
		return fn(s.layers.MergedDir(c.ID))
	}
	defer c.mu.Unlock()
	if c.State.Status == "removing" {
		return errdefs.Conflictf("container %s is marked for removal", c.ID)
	}
	img, err := s.images.Get(ctx, c.Image.String())
	if err != nil {
		return err
	}
	root, err := s.layers.MountRW(c.ID, img.Chain, false)
	if err != nil {
		return err
	}
	defer s.layers.UnmountRW(c.ID)
	return fn(root)
}

// resolvedPath is a container path resolved on the host: the parent directory's symlinks are followed
// inside the rootfs, the last element is not.
type resolvedPath struct {
	host string // host path of the entry itself
	name string // base name docker reports
}

func resolveInRoot(root, p string) (resolvedPath, error) {
	clean := path.Clean("/" + p)
	if clean == "/" {
		return resolvedPath{host: root, name: "/"}, nil
	}
	dir, err := securejoin.SecureJoin(root, path.Dir(clean))
	if err != nil {
		return resolvedPath{}, err
	}
	base := path.Base(clean)
	// "dir/." and "dir/" name the directory itself, with its symlink followed.
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") {
		full, err := securejoin.SecureJoin(root, clean)
		if err != nil {
			return resolvedPath{}, err
		}
		return resolvedPath{host: full, name: base}, nil
	}
	return resolvedPath{host: filepath.Join(dir, base), name: base}, nil
}

func notFoundIn(c *Container, p string) error {
	return errdefs.NotFoundf("Could not find the file %s in container %s", p, strings.TrimPrefix(c.Name, "/"))
}

func (s *Service) stat(c *Container, root, p string) (*container.PathStat, resolvedPath, error) {
	if p == "" {
		return nil, resolvedPath{}, errdefs.InvalidArgumentf("path cannot be empty")
	}
	rp, err := resolveInRoot(root, p)
	if err != nil {
		return nil, rp, err
	}
	// The files the runtime mounts over the image's are read from where the container sees them.
	if rel, err := filepath.Rel(root, rp.host); err == nil {
		mounted := map[string]string{"etc/hostname": c.HostnamePath, "etc/hosts": c.HostsPath, "etc/resolv.conf": c.ResolvConfPath}
		if src := mounted[filepath.ToSlash(rel)]; src != "" {
			if _, err := os.Stat(src); err == nil {
				rp.host = src
			}
		}
	}
	fi, err := os.Lstat(rp.host)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return nil, rp, notFoundIn(c, p)
	}
	if err != nil {
		return nil, rp, err
	}
	st := &container.PathStat{Name: rp.name, Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
	if fi.Mode()&os.ModeSymlink != 0 {
		target, err := securejoin.SecureJoin(root, path.Clean("/"+p))
		if err != nil {
			return nil, rp, err
		}
		rel, err := filepath.Rel(root, target)
		if err != nil {
			return nil, rp, err
		}
		st.LinkTarget = "/" + filepath.ToSlash(rel)
		if rel == "." {
			st.LinkTarget = "/"
		}
	}
	return st, rp, nil
}

// StatPath describes a path in the container for HEAD /containers/{id}/archive.
func (s *Service) StatPath(ctx context.Context, ref, p string) (*container.PathStat, error) {
	c, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	var st *container.PathStat
	err = s.withRootfs(ctx, c, func(root string) error {
		st, _, err = s.stat(c, root, p)
		return err
	})
	return st, err
}

// ArchivePath streams a tar of path p (with its base name as the top entry); start is called with
// the stat once the path is known to exist, before any tar byte is written.
func (s *Service) ArchivePath(ctx context.Context, ref, p string, start func(*container.PathStat) io.Writer) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	return s.withRootfs(ctx, c, func(root string) error {
		st, rp, err := s.stat(c, root, p)
		if err != nil {
			return err
		}
		w := start(st)
		tw := tar.NewWriter(w)
		name := rp.name
		if name == "/" {
			name = "."
		}
		if err := archive.WriteTree(ctx, tw, rp.host, name, nil); err != nil {
			return err
		}
		return tw.Close()
	})
}

// Export streams a tar of the container's whole root filesystem.
func (s *Service) Export(ctx context.Context, ref string, w io.Writer) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	return s.withRootfs(ctx, c, func(root string) error {
		tw := tar.NewWriter(w)
		if err := archive.WriteTree(ctx, tw, root, "", nil); err != nil {
			return err
		}
		return tw.Close()
	})
}

// ExtractToDir unpacks the tar r into directory p of the container (PUT /containers/{id}/archive).
func (s *Service) ExtractToDir(ctx context.Context, ref, p string, noOverwriteDirNonDir bool, r io.Reader) error {
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	if p == "" {
		return errdefs.InvalidArgumentf("path cannot be empty")
	}
	return s.withRootfs(ctx, c, func(root string) error {
		dest, err := securejoin.SecureJoin(root, path.Clean("/"+p))
		if err != nil {
			return err
		}
		fi, err := os.Lstat(dest)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			return notFoundIn(c, p)
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return errdefs.InvalidArgumentf("extraction point is not a directory")
		}
		rc, err := archive.Decompress(r)
		if err != nil {
			return errdefs.InvalidArgumentf("%v", err)
		}
		defer rc.Close()
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(filterTar(rc, pw, dest, noOverwriteDirNonDir)) }()
		_, err = archive.Apply(ctx, dest, pr, archive.ApplyOptions{})
		pr.CloseWithError(err)
		if err != nil {
			if errdefs.ClassOf(err) == errdefs.InvalidArgument {
				return err
			}
			return fmt.Errorf("extract into %s: %w", p, err)
		}
		return nil
	})
}

// filterTar copies a tar, refusing whiteout names (which would delete files of the image) and, with
// noOverwrite, entries that would replace a directory by a non-directory or the other way round.
func filterTar(r io.Reader, w io.Writer, dest string, noOverwrite bool) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return errdefs.InvalidArgumentf("invalid tar: %v", err)
		}
		if strings.HasPrefix(path.Base(hdr.Name), ".wh.") {
			return errdefs.InvalidArgumentf("invalid tar entry %q: whiteout names cannot be copied into a container", hdr.Name)
		}
		if noOverwrite {
			if existing, err := securejoin.SecureJoin(dest, hdr.Name); err == nil {
				if fi, err := os.Lstat(existing); err == nil {
					isDir := hdr.Typeflag == tar.TypeDir
					if fi.IsDir() && !isDir {
						return errdefs.InvalidArgumentf("cannot overwrite directory %q with non-directory %q", path.Clean("/"+hdr.Name), hdr.Name)
					}
					if !fi.IsDir() && isDir {
						return errdefs.InvalidArgumentf("cannot overwrite non-directory %q with directory %q", path.Clean("/"+hdr.Name), hdr.Name)
					}
				}
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}
