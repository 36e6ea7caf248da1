// Package content is berth's blob store: immutable blobs addressed by their sha256 digest.
// A blob is written to an ingest file, hashed while it streams, fsynced and renamed into place,
// so a reader never sees a partial blob and a crash leaves at most an ingest file that Open ignores.
package content

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/host"
)

// Store keeps blobs under root/blobs/sha256 and in-flight writes under root/ingest.
type Store struct {
	root string
}

// New opens (creating if needed) a store at root.
func New(root string) (*Store, error) {
	for _, d := range []string{filepath.Join(root, "blobs", "sha256"), filepath.Join(root, "ingest")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	return &Store{root: root}, nil
}

func (s *Store) path(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", errdefs.InvalidArgumentf("invalid digest %q: %v", d, err)
	}
	if d.Algorithm() != digest.SHA256 {
		return "", errdefs.InvalidArgumentf("unsupported digest algorithm %q", d.Algorithm())
	}
	return filepath.Join(s.root, "blobs", "sha256", d.Encoded()), nil
}

// Write stores the content of r. When expected is non-empty the content must hash to it; a mismatch
// stores nothing. It returns the digest and size of what was written.
func (s *Store) Write(r io.Reader, expected digest.Digest) (digest.Digest, int64, error) {
	h := sha256.New()
	return s.write(io.TeeReader(r, h), expected, func() (digest.Digest, error) {
		got := digest.NewDigest(digest.SHA256, h)
		if expected != "" && got != expected {
			return "", errdefs.InvalidArgumentf("content digest mismatch: expected %s, got %s", expected, got)
		}
		return got, nil
	})
}

// WriteVerified stores blob d from r, a stream that checks d itself and fails its last read on a
// mismatch (a registry blob, verified as it downloads), so the bytes are not hashed twice.
func (s *Store) WriteVerified(r io.Reader, d digest.Digest) (int64, error) {
	_, n, err := s.write(r, d, func() (digest.Digest, error) { return d, nil })
	return n, err
}

// writeBufSize is the copy buffer of a blob write: large enough that a 100 MB layer takes a
// hundred writes, not thousands.
const writeBufSize = 1 << 20

func (s *Store) write(r io.Reader, expected digest.Digest, check func() (digest.Digest, error)) (digest.Digest, int64, error) {
	if expected != "" {
		if _, err := s.path(expected); err != nil {
			return "", 0, err
		}
	}
	f, err := os.CreateTemp(filepath.Join(s.root, "ingest"), "blob-")
	if err != nil {
		return "", 0, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op once renamed
	n, err := io.CopyBuffer(&host.Writeback{F: f}, r, make([]byte, writeBufSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, err
	}
	got, err := check()
	if err != nil {
		return "", 0, err
	}
	dst, _ := s.path(got)
	if _, err := os.Stat(dst); err == nil {
		return got, n, nil // already present: blobs are immutable
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", 0, err
	}
	return got, n, syncDir(filepath.Dir(dst))
}

// Open returns a reader of the blob d.
func (s *Store) Open(d digest.Digest) (*os.File, error) {
	p, err := s.path(d)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errdefs.NotFoundf("blob %s not found in content store", d)
	}
	return f, err
}

// ReadAll returns the whole blob d; meant for small blobs such as configs and manifests.
func (s *Store) ReadAll(d digest.Digest) ([]byte, error) {
	f, err := s.Open(d)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Size reports the size of blob d.
func (s *Store) Size(d digest.Digest) (int64, error) {
	p, err := s.path(d)
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, errdefs.NotFoundf("blob %s not found in content store", d)
	}
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// Has reports whether blob d is present.
func (s *Store) Has(d digest.Digest) bool {
	_, err := s.Size(d)
	return err == nil
}

// Delete removes blob d; a missing blob is not an error.
func (s *Store) Delete(d digest.Digest) error {
	p, err := s.path(d)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Walk calls fn with the digest and size of every stored blob.
func (s *Store) Walk(fn func(d digest.Digest, size int64) error) error {
	entries, err := os.ReadDir(filepath.Join(s.root, "blobs", "sha256"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if d.Validate() != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if err := fn(d, info.Size()); err != nil {
			return err
		}
	}
	return nil
}

// CleanIngest removes abandoned ingest files; call it only when no write is in flight.
func (s *Store) CleanIngest() error {
	dir := filepath.Join(s.root, "ingest")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "blob-") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("clean ingest: %w", err)
			}
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
