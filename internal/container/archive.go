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
	"slices"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/volume"
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

// pathView is the container as docker's archive endpoints show it: the root filesystem with the
// container's binds and volumes over it, and its tmpfs mounts while it runs.
type pathView struct {
	root   string
	mounts []viewMount // deepest destination first
}

// viewMount is one mount of a pathView.
type viewMount struct {
	dest string // where the container sees it, resolved in the rootfs
	src  string // host path of its content
	rw   bool
}

// containerPath is the container's name for host path h under root.
func containerPath(root, h string) string {
	rel, err := filepath.Rel(root, h)
	if err != nil || rel == "." {
		return "/"
	}
	return "/" + filepath.ToSlash(rel)
}

// within reports whether slash path p is dir or below it.
func within(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

func (v *pathView) mountAt(cpath string) *viewMount {
	for i := range v.mounts {
		if m := &v.mounts[i]; within(cpath, m.dest) {
			return m
		}
	}
	return nil
}

// resolve is resolveInRoot over the view: a path that lands in a mount is resolved again inside
// the mount's source, so no symlink in it leads out of that either.
func (v *pathView) resolve(p string) (resolvedPath, *viewMount, error) {
	rp, err := resolveInRoot(v.root, p)
	if err != nil {
		return rp, nil, err
	}
	cpath := containerPath(v.root, rp.host)
	m := v.mountAt(cpath)
	if m == nil {
		return rp, nil, nil
	}
	rest := strings.TrimPrefix(cpath, m.dest)
	if rest == "" {
		return resolvedPath{host: m.src, name: rp.name}, m, nil
	}
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") {
		rest += "/"
	}
	inner, err := resolveInRoot(m.src, rest)
	inner.name = rp.name
	return inner, m, err
}

// containerPathOf is the container's name for host path h of the view.
func (v *pathView) containerPathOf(h string) string {
	for _, m := range v.mounts {
		if within(h, m.src) {
			return path.Join(m.dest, filepath.ToSlash(strings.TrimPrefix(h, m.src)))
		}
	}
	return containerPath(v.root, h)
}

// below lists the mounts strictly under container path cpath, shallowest first.
func (v *pathView) below(cpath string) []viewMount {
	var out []viewMount
	for i := len(v.mounts) - 1; i >= 0; i-- {
		if m := v.mounts[i]; cpath == "/" || strings.HasPrefix(m.dest, cpath+"/") {
			out = append(out, m)
		}
	}
	return out
}

// withView runs fn on the container's pathView. A volume is mounted for the call if it needs to be.
func (s *Service) withView(ctx context.Context, c *Container, fn func(v *pathView) error) error {
	c.mu.Lock()
	points := slices.Clone(c.MountPoints)
	for dest, opts := range c.HostConfig.Tmpfs { // --tmpfs, which has no MountPoint
		points = append(points, volume.MountPoint{Type: mount.TypeTmpfs, Destination: dest, RW: !slices.Contains(strings.Split(opts, ","), "ro")})
	}
	running, pid := c.State.Running, c.State.Pid
	c.mu.Unlock()
	return s.withRootfs(ctx, c, func(root string) error {
		v := &pathView{root: root}
		user := "berth-archive-" + newID()[:12]
		for _, p := range points {
			host, err := securejoin.SecureJoin(root, p.Destination)
			if err != nil {
				return err
			}
			m := viewMount{dest: containerPath(root, host), src: p.Source, rw: p.RW}
			switch p.Type {
			case mount.TypeBind:
			case mount.TypeVolume:
				if m.src, err = s.volumes.Mount(p.Name, user); err != nil {
					return err
				}
				defer s.volumes.Unmount(p.Name, user)
			case mount.TypeTmpfs:
				if !running {
					continue // a stopped container's tmpfs holds nothing
				}
				m.src = "/proc/" + strconv.Itoa(pid) + "/root" + m.dest
			default:
				continue
			}
			v.mounts = append(v.mounts, m)
		}
		// Deepest first, so that mountAt finds the innermost mount of a path.
		slices.SortStableFunc(v.mounts, func(a, b viewMount) int { return strings.Count(b.dest, "/") - strings.Count(a.dest, "/") })
		return fn(v)
	})
}

func (s *Service) stat(c *Container, v *pathView, p string) (*container.PathStat, resolvedPath, error) {
	if p == "" {
		return nil, resolvedPath{}, errdefs.InvalidArgumentf("path cannot be empty")
	}
	rp, m, err := v.resolve(p)
	if err != nil {
		return nil, rp, err
	}
	if rel, err := filepath.Rel(v.root, rp.host); err == nil && m == nil {
		// The files the runtime mounts over the image's are read from where the container sees them.
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
		target, _, err := v.resolve(strings.TrimSuffix(p, "/") + "/")
		if err != nil {
			return nil, rp, err
		}
		st.LinkTarget = v.containerPathOf(target.host)
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
	err = s.withView(ctx, c, func(v *pathView) error {
		st, _, err = s.stat(c, v, p)
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
	return s.withView(ctx, c, func(v *pathView) error {
		st, rp, err := s.stat(c, v, p)
		if err != nil {
			return err
		}
		w := start(st)
		tw := tar.NewWriter(w)
		name := rp.name
		if name == "/" {
			name = "."
		}
		if err := writeView(ctx, tw, v, rp.host, v.containerPathOf(rp.host), name); err != nil {
			return err
		}
		return tw.Close()
	})
}

// writeView writes the tree at host path dir, which the container sees at cpath, as entries under
// name, with the content of the mounts below cpath in place of what is underneath them.
func writeView(ctx context.Context, tw *tar.Writer, v *pathView, dir, cpath, name string) error {
	under := v.below(cpath)
	if len(under) == 0 {
		return archive.WriteTree(ctx, tw, dir, name, nil)
	}
	err := archive.WriteTree(ctx, tw, dir, name, func(rel string, _ os.FileInfo, hdr *tar.Header) (*tar.Header, error) {
		c := path.Join(cpath, filepath.ToSlash(rel))
		if rel != "." && slices.ContainsFunc(under, func(m viewMount) bool { return within(c, m.dest) }) {
			return nil, nil
		}
		return hdr, nil
	})
	if err != nil {
		return err
	}
	for i, m := range under {
		// Only the outermost mounts here; the ones inside them come with their recursion.
		nested := slices.ContainsFunc(under[:i], func(o viewMount) bool { return strings.HasPrefix(m.dest, o.dest+"/") })
		if nested {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(m.dest, cpath), "/")
		if err := writeView(ctx, tw, v, m.src, m.dest, path.Join(name, rel)); err != nil {
			return fmt.Errorf("archive mount %s: %w", m.dest, err)
		}
	}
	return nil
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
	return s.withView(ctx, c, func(v *pathView) error {
		rp, m, err := v.resolve(strings.TrimSuffix(p, "/") + "/")
		if err != nil {
			return err
		}
		switch {
		case m != nil && !m.rw:
			return errdefs.InvalidArgumentf("mounted volume is marked read-only")
		case m == nil && c.HostConfig.ReadonlyRootfs:
			return errdefs.InvalidArgumentf("container rootfs is marked read-only")
		}
		dest := rp.host
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
