package content

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestWriteChecksAndStores(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blob := bytes.Repeat([]byte("layer bytes "), 300_000) // several copy buffers and writeback chunks
	want := digest.FromBytes(blob)
	if _, _, err := s.Write(bytes.NewReader(blob), digest.FromString("something else")); err == nil || !strings.Contains(err.Error(), "digest mismatch") {
		t.Fatalf("write with the wrong digest: %v", err)
	}
	if s.Has(want) {
		t.Fatal("a mismatched write stored the blob")
	}
	got, n, err := s.Write(bytes.NewReader(blob), want)
	if err != nil || got != want || n != int64(len(blob)) {
		t.Fatalf("write: %s %d %v", got, n, err)
	}
	if back, err := s.ReadAll(want); err != nil || !bytes.Equal(back, blob) {
		t.Fatalf("read back %d bytes: %v", len(back), err)
	}
	assertNoIngest(t, s)
}

// failingReader stands for a download that breaks (or fails its digest check) at its end.
type failingReader struct{ r io.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("error verifying sha256 checksum")
	}
	return n, err
}

func TestWriteVerifiedTrustsOnlyACompleteStream(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blob := []byte("a registry blob")
	d := digest.FromBytes(blob)
	if _, err := s.WriteVerified(failingReader{bytes.NewReader(blob)}, d); err == nil {
		t.Fatal("a stream that failed at its end was stored")
	}
	if s.Has(d) {
		t.Fatal("the failed stream left a blob")
	}
	assertNoIngest(t, s)
	if n, err := s.WriteVerified(bytes.NewReader(blob), d); err != nil || n != int64(len(blob)) {
		t.Fatalf("write verified: %d %v", n, err)
	}
	if back, err := s.ReadAll(d); err != nil || !bytes.Equal(back, blob) {
		t.Fatalf("read back %q: %v", back, err)
	}
}

func assertNoIngest(t *testing.T, s *Store) {
	t.Helper()
	if entries, _ := os.ReadDir(filepath.Join(s.root, "ingest")); len(entries) != 0 {
		t.Fatalf("ingest holds %d files after the writes", len(entries))
	}
}
