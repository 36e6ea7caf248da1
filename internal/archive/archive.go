// Package archive applies OCI/Docker image layer tars onto a directory that
// becomes an overlayfs lowerdir.
//
// Layer tars come from registries and `docker load`, so they are hostile input:
// every entry is checked before it touches the disk, nothing is ever resolved
// through a symlink, and docker/OCI whiteouts are rewritten into the form the
// overlayfs kernel driver understands. Hostile or corrupt input yields an error
// classed errdefs.InvalidArgument; filesystem failures are left unclassed.
package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/host"
)

const (
	whiteoutPrefix = ".wh."
	// Names starting with this are whiteout metadata (opaque marker, aufs
	// hardlink dirs), never real files.
	whiteoutMeta   = whiteoutPrefix + whiteoutPrefix
	whiteoutOpaque = whiteoutMeta + ".opq"

	overlayOpaqueXattr = "trusted.overlay.opaque"
	overlayXattrPrefix = "trusted.overlay."
	paxXattrPrefix     = "SCHILY.xattr."
)

var (
	errEscape      = errors.New("path escapes the layer root")
	errAbsolute    = errors.New("absolute path")
	errCorrupt     = errors.New("truncated or corrupt layer tar")
	errDevice      = errors.New("device and fifo entries are not allowed")
	errSymlinkPath = errors.New("parent path traverses a symlink")
)

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	// "BZh" alone could be the start of a plain tar's first file name, so the
	// block-size digit and the first block magic are checked too.
	magicBzip2 = []byte("BZh")
	bzip2Block = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
	magicXz    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
)

// Decompress returns a reader of the uncompressed stream, detecting gzip,
// zstd, bzip2 or plain tar by magic bytes. Close releases decoder resources;
// it does not close r.
func Decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// A short or empty stream is not an error here: it is passed through and
	// the tar reader decides whether it is a valid (empty) archive.
	head, err := br.Peek(10)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read layer header: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, errdefs.As(errdefs.InvalidArgument, fmt.Errorf("gzip layer: %w", err))
		}
		return zr, nil
	case bytes.HasPrefix(head, magicZstd):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, errdefs.As(errdefs.InvalidArgument, fmt.Errorf("zstd layer: %w", err))
		}
		return zr.IOReadCloser(), nil
	case len(head) == 10 && bytes.HasPrefix(head, magicBzip2) && head[3] >= '1' && head[3] <= '9' &&
		bytes.Equal(head[4:], bzip2Block):
		return io.NopCloser(bzip2.NewReader(br)), nil
	case bytes.HasPrefix(head, magicXz):
		return nil, errdefs.NotImplementedf("xz-compressed layers are not supported")
	}
	return io.NopCloser(br), nil
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// AllowDevices permits char/block device and fifo entries (false: refused with an error).
	AllowDevices bool
}

// Apply unpacks the uncompressed layer tar r into dir (which must exist,
// normally empty), converting docker/OCI whiteouts into overlayfs form:
// ".wh.<name>" becomes a 0/0 character device named <name>; ".wh..wh..opq"
// sets xattr "trusted.overlay.opaque"="y" on its directory. It returns the
// total size in bytes of regular file content written (the layer's size).
func Apply(ctx context.Context, dir string, r io.Reader, opts ApplyOptions) (int64, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	if fi, err := os.Lstat(root); err != nil {
		return 0, err
	} else if !fi.IsDir() {
		return 0, fmt.Errorf("apply layer: %s is not a directory", root)
	}
	a := &applier{
		root:     root,
		opts:     opts,
		buf:      make([]byte, 128<<10),
		dirs:     map[string]bool{".": true},
		written:  map[string]bool{},
		dirTimes: map[string][2]unix.Timespec{},
	}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return a.size, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return a.size, errdefs.As(errdefs.InvalidArgument, fmt.Errorf("%w: %w", errCorrupt, err))
		}
		if err := a.entry(hdr, tr); err != nil {
			err = fmt.Errorf("layer entry %q: %w", hdr.Name, err)
			if isHostile(err) {
				err = errdefs.As(errdefs.InvalidArgument, err)
			}
			return a.size, err
		}
	}
	// Directory mtimes go last: creating children would otherwise bump them.
	for rel, ts := range a.dirTimes {
		full := a.full(rel)
		if fi, err := os.Lstat(full); err != nil || !fi.IsDir() {
			continue // replaced or whited out later in the tar
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, full, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return a.size, fmt.Errorf("layer entry %q: set times: %w", rel, err)
		}
	}
	return a.size, nil
}

func isHostile(err error) bool {
	for _, e := range []error{errEscape, errAbsolute, errCorrupt, errDevice, errSymlinkPath, errInvalid} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// errInvalid marks malformed-but-not-escaping entries (bad hardlinks, odd names).
var errInvalid = errors.New("invalid entry")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalid, fmt.Sprintf(format, args...))
}

type applier struct {
	root string
	opts ApplyOptions
	buf  []byte
	size int64
	// dirs caches relative paths already verified to be real directories, so
	// deep trees cost one Lstat per new directory rather than per entry.
	dirs map[string]bool
	// written holds non-directory names this tar created: the only valid
	// hardlink targets.
	written  map[string]bool
	dirTimes map[string][2]unix.Timespec
}

func (a *applier) full(rel string) string {
	if rel == "." {
		return a.root
	}
	return a.root + "/" + rel
}

// cleanName turns a tar name into a clean path relative to the layer root.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", invalidf("empty name")
	}
	if strings.HasPrefix(name, "/") {
		return "", errAbsolute
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", errEscape
	}
	return c, nil
}

func (a *applier) entry(hdr *tar.Header, tr *tar.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	rel, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	// The snapshotter owns the root directory's metadata; "./" entries are noise.
	if rel == "." {
		if hdr.Typeflag == tar.TypeDir {
			return nil
		}
		return invalidf("non-directory entry for the layer root")
	}

	base := path.Base(rel)
	if strings.HasPrefix(base, whiteoutPrefix) {
		return a.whiteout(rel, base)
	}

	if err := a.mkParents(rel); err != nil {
		return err
	}
	full := a.full(rel)

	switch hdr.Typeflag {
	case tar.TypeDir:
		isDir, err := a.replace(rel, true)
		if err != nil {
			return err
		}
		if !isDir {
			if err := unix.Mkdir(full, 0o700); err != nil {
				return fmt.Errorf("mkdir: %w", err)
			}
		}
		a.dirs[rel] = true
		if err := a.meta(full, hdr, true); err != nil {
			return err
		}
		a.dirTimes[rel] = times(hdr)
		return nil

	case tar.TypeReg, tar.TypeRegA:
		if _, err := a.replace(rel, false); err != nil {
			return err
		}
		if err := a.regular(full, hdr, tr); err != nil {
			return err
		}

	case tar.TypeSymlink:
		if _, err := a.replace(rel, false); err != nil {
			return err
		}
		// The target is not checked: it is resolved inside the container later.
		if err := unix.Symlink(hdr.Linkname, full); err != nil {
			return fmt.Errorf("symlink: %w", err)
		}
		if err := a.meta(full, hdr, false); err != nil {
			return err
		}

	case tar.TypeLink:
		if err := a.hardlink(rel, hdr.Linkname); err != nil {
			return err
		}
		// Metadata belongs to the shared inode, already set by the target's entry.
		a.written[rel] = true
		return nil

	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		if !a.opts.AllowDevices {
			return errDevice
		}
		if _, err := a.replace(rel, false); err != nil {
			return err
		}
		mode := uint32(unix.S_IFIFO)
		switch hdr.Typeflag {
		case tar.TypeChar:
			mode = unix.S_IFCHR
		case tar.TypeBlock:
			mode = unix.S_IFBLK
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknod(full, mode|0o600, int(dev)); err != nil {
			return fmt.Errorf("mknod: %w", err)
		}
		if err := a.meta(full, hdr, true); err != nil {
			return err
		}

	default:
		return invalidf("unsupported entry type %q", hdr.Typeflag)
	}

	a.written[rel] = true
	ts := times(hdr)
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, full, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

// mkParents makes sure every ancestor of rel is a real directory, creating
// missing ones 0755 and refusing symlinks, so no later syscall on a path below
// the root can be redirected elsewhere.
func (a *applier) mkParents(rel string) error {
	return a.walkParents(rel, true)
}

func (a *applier) walkParents(rel string, create bool) error {
	parent := path.Dir(rel)
	if a.dirs[parent] {
		return nil
	}
	if err := a.walkParents(parent, create); err != nil {
		return err
	}
	full := a.full(parent)
	fi, err := os.Lstat(full)
	switch {
	case errors.Is(err, os.ErrNotExist) && create:
		if err := unix.Mkdir(full, 0o755); err != nil {
			return fmt.Errorf("mkdir %q: %w", parent, err)
		}
		// Mkdir is subject to the umask; implicit dirs must be exactly 0755.
		if err := unix.Chmod(full, 0o755); err != nil {
			return fmt.Errorf("chmod %q: %w", parent, err)
		}
	case err != nil:
		return invalidf("parent %q: %v", parent, err)
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%w %q", errSymlinkPath, parent)
	case !fi.IsDir():
		return invalidf("parent %q is not a directory", parent)
	}
	a.dirs[parent] = true
	return nil
}

// replace clears whatever is at rel so a new entry can take its place; a
// directory replacing a directory is kept (contents merge) and reported true.
func (a *applier) replace(rel string, wantDir bool) (bool, error) {
	full := a.full(rel)
	fi, err := os.Lstat(full)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fi.IsDir() {
		if wantDir {
			return true, nil
		}
		// RemoveAll never follows symlinks.
		if err := os.RemoveAll(full); err != nil {
			return false, err
		}
		// Cached directories below rel are gone; rare, so just start over.
		clear(a.dirs)
		a.dirs["."] = true
		return false, nil
	}
	if err := unix.Unlink(full); err != nil {
		return false, fmt.Errorf("remove existing: %w", err)
	}
	return false, nil
}

func (a *applier) regular(full string, hdr *tar.Header, tr *tar.Reader) error {
	f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	n, err := a.copy(&host.Writeback{F: f}, tr)
	a.size += n
	if err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return a.meta(full, hdr, true)
}

// copy streams file content through the reused buffer. It is written out
// rather than using io.CopyBuffer because *os.File's ReaderFrom would bypass
// the buffer, and because read errors (corrupt input) must be told apart from
// write errors (disk full).
func (a *applier) copy(f io.Writer, tr *tar.Reader) (int64, error) {
	var total int64
	for {
		n, rerr := tr.Read(a.buf)
		if n > 0 {
			w, werr := f.Write(a.buf[:n])
			total += int64(w)
			if werr != nil {
				return total, werr
			}
		}
		if errors.Is(rerr, io.EOF) {
			return total, nil
		}
		if rerr != nil {
			return total, fmt.Errorf("%w: %w", errCorrupt, rerr)
		}
	}
}

// meta applies owner, mode and xattrs. chmod follows symlinks, so it is only
// called (chmod=true) on paths this applier just created or verified as
// non-symlinks.
func (a *applier) meta(full string, hdr *tar.Header, chmod bool) error {
	if err := unix.Lchown(full, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("lchown: %w", err)
	}
	// After chown, which clears setuid/setgid.
	if chmod {
		if err := unix.Chmod(full, uint32(hdr.Mode)&0o7777); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, paxXattrPrefix)
		if !ok {
			continue
		}
		// overlayfs trusts its own xattrs in lowerdirs (redirects, metacopy);
		// only the opaque marker has a legitimate meaning in a layer.
		if strings.HasPrefix(name, overlayXattrPrefix) && (name != overlayOpaqueXattr || v != "y") {
			continue
		}
		if err := unix.Lsetxattr(full, name, []byte(v), 0); err != nil {
			if ignorableXattrErr(name, err) {
				continue
			}
			return fmt.Errorf("setxattr %q: %w", name, err)
		}
	}
	return nil
}

// ignorableXattrErr: a filesystem without xattr support loses nothing we can
// act on, and user./trusted. xattrs may legitimately be refused (e.g. user.*
// on symlinks). security.* (file capabilities, SELinux labels) must not be
// dropped silently.
func ignorableXattrErr(name string, err error) bool {
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) {
		return true
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return !strings.HasPrefix(name, "security.")
	}
	return false
}

func (a *applier) hardlink(rel, linkname string) error {
	target, err := cleanName(linkname)
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w", linkname, err)
	}
	if !a.written[target] {
		return invalidf("hardlink target %q does not appear earlier in the layer", linkname)
	}
	if target == rel {
		return invalidf("hardlink to itself")
	}
	// The target's parents may have been replaced by symlinks since it was
	// written; link(2) would follow them.
	if err := a.walkParents(target, false); err != nil {
		return fmt.Errorf("hardlink target %q: %w", linkname, err)
	}
	fi, err := os.Lstat(a.full(target))
	if err != nil {
		return invalidf("hardlink target %q: %v", linkname, err)
	}
	if fi.IsDir() {
		return invalidf("hardlink target %q is a directory", linkname)
	}
	if _, err := a.replace(rel, false); err != nil {
		return err
	}
	// linkat without AT_SYMLINK_FOLLOW links a symlink itself, never its target.
	if err := unix.Linkat(unix.AT_FDCWD, a.full(target), unix.AT_FDCWD, a.full(rel), 0); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	return nil
}

// whiteout converts ".wh.*" entries into overlayfs form.
func (a *applier) whiteout(rel, base string) error {
	if err := a.mkParents(rel); err != nil {
		return err
	}
	dir := path.Dir(rel)
	if base == whiteoutOpaque {
		err := unix.Lsetxattr(a.full(dir), overlayOpaqueXattr, []byte("y"), 0)
		if err != nil {
			return fmt.Errorf("set opaque xattr on %q: %w", dir, err)
		}
		return nil
	}
	if strings.HasPrefix(base, whiteoutMeta) {
		return nil // aufs metadata (.wh..wh.plnk etc.): meaningless for overlayfs
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." {
		return invalidf("bad whiteout name")
	}
	target := path.Join(dir, name)
	full := a.full(target)
	// OCI: a whiteout only hides lower layers, never an entry of its own layer,
	// and that entry already masks the lower ones.
	if _, err := os.Lstat(full); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := unix.Mknod(full, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("mknod whiteout: %w", err)
	}
	return nil
}

func times(hdr *tar.Header) [2]unix.Timespec {
	m := hdr.ModTime
	at := hdr.AccessTime
	if at.IsZero() {
		at = m
	}
	// Built from seconds+nanos: UnixNano overflows outside 1678..2262.
	return [2]unix.Timespec{
		{Sec: at.Unix(), Nsec: int64(at.Nanosecond())},
		{Sec: m.Unix(), Nsec: int64(m.Nanosecond())},
	}
}
