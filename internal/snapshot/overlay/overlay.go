// Package overlay keeps unpacked image layers as overlayfs lower directories. A layer is identified by
// its chain ID (the digest of its diff ID and all the layers below it), is unpacked once into a temporary
// directory, verified against its diff ID, synced and renamed into place, and then shared read-only by
// every image and container above it.
package overlay

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/host"
)

// Layer describes one committed layer.
type Layer struct {
	ChainID digest.Digest
	DiffID  digest.Digest
	Parent  digest.Digest `json:",omitempty"`
	// Size is the number of bytes of file content in this layer alone.
	Size int64
}

// Store holds layers under root/layers/<chain-id-hex>/{diff,layer.json}.
type Store struct {
	root string
}

// New opens (creating if needed) a layer store at root and removes leftovers of interrupted unpacks.
func New(root string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(root, "layers"), 0o700); err != nil {
		return nil, err
	}
	// Unpacks and writable layers come and go all day: spread them over the disk.
	for _, d := range []string{"tmp", "containers"} {
		if err := host.MkdirSpread(filepath.Join(root, d), 0o700); err != nil {
			return nil, err
		}
	}
	s := &Store{root: root}
	return s, s.cleanTmp()
}

// ChainID returns the chain ID of a layer with the given diff ID on top of parent (empty for a base layer).
func ChainID(parent, diffID digest.Digest) digest.Digest {
	if parent == "" {
		return diffID
	}
	return digest.FromString(parent.String() + " " + diffID.String())
}

func (s *Store) dir(chainID digest.Digest) string {
	return filepath.Join(s.root, "layers", chainID.Encoded())
}

// DiffDir is the directory holding the files of layer chainID.
func (s *Store) DiffDir(chainID digest.Digest) string {
	return filepath.Join(s.dir(chainID), "diff")
}

// Get returns the committed layer chainID.
func (s *Store) Get(chainID digest.Digest) (Layer, error) {
	if chainID.Validate() != nil {
		return Layer{}, errdefs.InvalidArgumentf("invalid layer id %q", chainID)
	}
	raw, err := os.ReadFile(filepath.Join(s.dir(chainID), "layer.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return Layer{}, errdefs.NotFoundf("layer %s not found", chainID)
	}
	if err != nil {
		return Layer{}, err
	}
	var l Layer
	if err := json.Unmarshal(raw, &l); err != nil {
		return Layer{}, fmt.Errorf("layer %s: corrupt layer.json: %w", chainID, err)
	}
	return l, nil
}

// Unpack applies the uncompressed layer tar r on top of parent unless that layer already exists.
// The tar must hash to diffID; otherwise nothing is kept.
func (s *Store) Unpack(ctx context.Context, parent, diffID digest.Digest, r io.Reader) (Layer, error) {
	h := sha256.New()
	return s.unpack(ctx, parent, diffID, io.TeeReader(r, h), func() error {
		if got := digest.NewDigest(digest.SHA256, h); got != diffID {
			return errdefs.InvalidArgumentf("layer content does not match its diff ID: expected %s, got %s", diffID, got)
		}
		return nil
	})
}

// UnpackVerified is Unpack for a stream that checks diffID itself and fails its last read on a
// mismatch, as a pull's uncompressed layer does (its blob digest is its diff ID, verified as it
// downloads), so the bytes are not hashed twice. Unpack reads r to its end before it commits.
func (s *Store) UnpackVerified(ctx context.Context, parent, diffID digest.Digest, r io.Reader) (Layer, error) {
	return s.unpack(ctx, parent, diffID, r, func() error { return nil })
}

func (s *Store) unpack(ctx context.Context, parent, diffID digest.Digest, r io.Reader, check func() error) (Layer, error) {
	chainID := ChainID(parent, diffID)
	if l, err := s.Get(chainID); err == nil {
		return l, nil
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "unpack-")
	if err != nil {
		return Layer{}, err
	}
	defer os.RemoveAll(tmp)
	diff := filepath.Join(tmp, "diff")
	if err := os.Mkdir(diff, 0o755); err != nil {
		return Layer{}, err
	}
	size, err := archive.Apply(ctx, diff, r, archive.ApplyOptions{})
	if err != nil {
		return Layer{}, err
	}
	// The tar reader stops at the end-of-archive marker; the rest (padding) is part of the diff ID.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return Layer{}, fmt.Errorf("read layer: %w", err)
	}
	l := Layer{ChainID: chainID, DiffID: diffID, Parent: parent, Size: size}
	raw, _ := json.Marshal(l)
	if err := os.WriteFile(filepath.Join(tmp, "layer.json"), raw, 0o600); err != nil {
		return Layer{}, err
	}
	if err := syncFS(tmp); err != nil {
		return Layer{}, err
	}
	if err := check(); err != nil {
		return Layer{}, err
	}
	if err := os.Rename(tmp, s.dir(chainID)); err != nil {
		// A concurrent unpack of the same layer won the race; theirs is as good as ours.
		if existing, gerr := s.Get(chainID); gerr == nil {
			return existing, nil
		}
		return Layer{}, err
	}
	return l, syncFS(filepath.Join(s.root, "layers"))
}

// Remove deletes layer chainID. The directory is first renamed away so a crash never leaves a
// half-deleted layer under its real name.
func (s *Store) Remove(chainID digest.Digest) error {
	tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "remove-")
	if err != nil {
		return err
	}
	dst := filepath.Join(tmp, "layer")
	if err := os.Rename(s.dir(chainID), dst); err != nil {
		os.Remove(tmp)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return os.RemoveAll(tmp)
}

// List returns every committed layer.
func (s *Store) List() ([]Layer, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "layers"))
	if err != nil {
		return nil, err
	}
	var out []Layer
	for _, e := range entries {
		l, err := s.Get(digest.NewDigestFromEncoded(digest.SHA256, e.Name()))
		if err != nil {
			// Not a committed layer (cannot happen through Unpack); drop it so it is not leaked.
			if rerr := os.RemoveAll(filepath.Join(s.root, "layers", e.Name())); rerr != nil {
				return nil, rerr
			}
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

// LowerDirs returns the overlayfs lowerdir option for a chain of layers given bottom first.
func (s *Store) LowerDirs(chain []digest.Digest) string {
	dirs := make([]string, len(chain))
	for i, c := range chain {
		dirs[len(chain)-1-i] = s.DiffDir(c)
	}
	return strings.Join(dirs, ":")
}

// MountReadOnly mounts the union of chain (bottom first) read-only at target.
func (s *Store) MountReadOnly(chain []digest.Digest, target string) error {
	if len(chain) == 0 {
		return errdefs.InvalidArgumentf("no layers to mount")
	}
	if len(chain) == 1 {
		// overlayfs needs two lower layers without an upper one; a read-only bind is the same view.
		if err := unix.Mount(s.DiffDir(chain[0]), target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind layer: %w", err)
		}
		return unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
	}
	if err := unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, "lowerdir="+s.LowerDirs(chain)); err != nil {
		return fmt.Errorf("mount overlay: %w", err)
	}
	return nil
}

func (s *Store) cleanTmp() error {
	dir := filepath.Join(s.root, "tmp")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func syncFS(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Syncfs(fd)
}

// A container's writable layer lives in root/containers/<id>/{upper,work,merged}.
func (s *Store) rwDir(id string) string { return filepath.Join(s.root, "containers", id) }

// UpperDir is where a container's changes to its image land.
func (s *Store) UpperDir(id string) string { return filepath.Join(s.rwDir(id), "upper") }

// MergedDir is where a container's root filesystem is mounted.
func (s *Store) MergedDir(id string) string { return filepath.Join(s.rwDir(id), "merged") }

// CreateRW makes the writable layer of container id.
func (s *Store) CreateRW(id string) error {
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(s.rwDir(id), d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// MountRW mounts container id's writable layer over chain (bottom first) at its merged directory,
// unless it is mounted already (after a daemon restart the mount survives with the container).
//
// A volatile mount skips overlayfs's sync of the upper layer on unmount (tens of milliseconds on
// a busy ext4); it suits layers that are thrown away after one run, as podman does for --rm.
// After a host crash the kernel refuses to mount such a layer again, which is what a layer that
// may have lost writes deserves.
func (s *Store) MountRW(id string, chain []digest.Digest, volatile bool) (string, error) {
	merged := s.MergedDir(id)
	if mounted(merged) {
		return merged, nil
	}
	if len(chain) == 0 {
		return "", errdefs.InvalidArgumentf("image has no layers to run")
	}
	opts := "lowerdir=" + s.LowerDirs(chain) + ",upperdir=" + s.UpperDir(id) + ",workdir=" + filepath.Join(s.rwDir(id), "work")
	if volatile {
		opts += ",volatile"
	}
	if len(opts) >= unix.Getpagesize() {
		return "", errdefs.InvalidArgumentf("image has too many layers (%d) for one overlay mount", len(chain))
	}
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return "", fmt.Errorf("mount container rootfs: %w", err)
	}
	return merged, nil
}

// UnmountRW unmounts container id's root filesystem if it is mounted.
func (s *Store) UnmountRW(id string) error {
	merged := s.MergedDir(id)
	if !mounted(merged) {
		return nil
	}
	if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("unmount container rootfs: %w", err)
	}
	// A volatile mount leaves this marker so that a remount after a crash fails; unmounted
	// cleanly, the layer is intact and may be mounted again.
	os.RemoveAll(filepath.Join(s.rwDir(id), "work", "work", "incompat"))
	return nil
}

// RemoveRW unmounts and deletes container id's writable layer.
func (s *Store) RemoveRW(id string) error {
	if err := s.UnmountRW(id); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "remove-")
	if err != nil {
		return err
	}
	if err := os.Rename(s.rwDir(id), filepath.Join(tmp, "rw")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		os.Remove(tmp)
		return err
	}
	return os.RemoveAll(tmp)
}

// mounted reports whether dir is a mount point (its device differs from its parent's).
func mounted(dir string) bool {
	var st, parent unix.Stat_t
	if unix.Lstat(dir, &st) != nil || unix.Lstat(filepath.Dir(dir), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}
