package volume

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/metadata"
)

type events struct{ actions []string }

func (e *events) Emit(typ, action, id string, _ map[string]string) {
	e.actions = append(e.actions, typ+" "+action+" "+id)
}

func newService(t *testing.T, dir string) (*Service, *metadata.DB, *events) {
	t.Helper()
	db, err := metadata.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{}
	s, err := New(filepath.Join(dir, "volumes"), db, ev, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s, db, ev
}

func TestServiceLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, db, ev := newService(t, dir)
	v, err := s.Create(ctx, CreateOptions{Name: "data", Labels: map[string]string{"a": "b"}})
	if err != nil || v.Mountpoint != filepath.Join(dir, "volumes", "data", "_data") || v.Driver != "local" {
		t.Fatalf("create: %+v %v", v, err)
	}
	if _, err := s.Create(ctx, CreateOptions{Name: "x", Driver: "nfs-plugin"}); errdefs.ClassOf(err) != errdefs.NotFound {
		t.Fatalf("unknown driver: %v", err)
	}
	anon, err := s.Create(ctx, CreateOptions{Labels: map[string]string{AnonymousLabel: ""}, Ref: "c1"})
	if err != nil || len(anon.Name) != 64 {
		t.Fatalf("anonymous: %+v %v", anon, err)
	}
	os.WriteFile(filepath.Join(v.Mountpoint, "f"), []byte("12345"), 0o644)

	if err := s.Remove(ctx, anon.Name, false); errdefs.ClassOf(err) != errdefs.Conflict {
		t.Fatalf("remove in use: %v", err)
	}
	list, _ := s.List(ctx, filters.Args{"dangling": {"true": true}})
	if len(list) != 1 || list[0].Name != "data" {
		t.Fatalf("dangling: %+v", list)
	}
	if _, err := s.List(ctx, filters.Args{"bogus": {"x": true}}); errdefs.ClassOf(err) != errdefs.InvalidArgument {
		t.Fatalf("bad filter: %v", err)
	}
	du, _ := s.DiskUsage(ctx)
	// Sorted by name, and the anonymous volume's name is random hex: find each by name.
	usage := map[string]*volume.UsageData{}
	for _, v := range du {
		usage[v.Name] = v.UsageData
	}
	if len(du) != 2 || usage[anon.Name] == nil || usage[anon.Name].RefCount != 1 || usage["data"] == nil || usage["data"].Size != 5 {
		t.Fatalf("disk usage: %+v", usage)
	}

	// A restart keeps records; references come back from the containers (Restore).
	db.Close()
	s, db, _ = newService(t, dir)
	defer db.Close()
	s.Restore(anon.Name, "c1", false)
	if rep, _ := s.Prune(ctx, filters.Args{}); len(rep.VolumesDeleted) != 0 {
		t.Fatalf("pruned a volume in use or a named one: %+v", rep)
	}
	s.Unref(anon.Name, "c1")
	if rep, _ := s.Prune(ctx, filters.Args{}); len(rep.VolumesDeleted) != 1 || rep.VolumesDeleted[0] != anon.Name {
		t.Fatalf("prune anonymous: %+v", rep)
	}
	if rep, _ := s.Prune(ctx, filters.Args{"all": {"true": true}, "label": {"a=b": true}}); len(rep.VolumesDeleted) != 1 || rep.SpaceReclaimed != 5 {
		t.Fatalf("prune all: %+v", rep)
	}
	if _, err := s.Get(ctx, "data"); errdefs.ClassOf(err) != errdefs.NotFound {
		t.Fatalf("get after prune: %v", err)
	}
	if len(ev.actions) != 2 || ev.actions[0] != "volume create data" {
		t.Fatalf("events %v", ev.actions)
	}
}

func TestOrphansRemovedAtStart(t *testing.T) {
	dir := t.TempDir()
	// A create that crashed before its record, and a remove that crashed after it.
	for _, d := range []string{"volumes/half/_data", "volumes/" + trashPrefix + "gone-1234/_data"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	s, db, _ := newService(t, dir)
	defer db.Close()
	entries, _ := os.ReadDir(s.root)
	if len(entries) != 0 {
		t.Fatalf("orphans left: %v", entries)
	}
}

func TestExportImport(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newService(t, t.TempDir())
	defer db.Close()
	src, _ := s.Create(ctx, CreateOptions{Name: "src"})
	os.MkdirAll(filepath.Join(src.Mountpoint, "d"), 0o700)
	os.WriteFile(filepath.Join(src.Mountpoint, "d", "f"), []byte("payload"), 0o600)
	os.Symlink("d/f", filepath.Join(src.Mountpoint, "l"))
	var buf bytes.Buffer
	if err := s.Export(ctx, "src", &buf); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names[h.Name] = true
	}
	if !names["d/"] || !names["d/f"] || !names["l"] {
		t.Fatalf("exported %v", names)
	}
	dst, _ := s.Create(ctx, CreateOptions{Name: "dst"})
	if err := s.Import(ctx, "dst", &buf); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst.Mountpoint, "l")); err != nil || string(b) != "payload" {
		t.Fatalf("imported: %q %v", b, err)
	}
	if fi, _ := os.Stat(filepath.Join(dst.Mountpoint, "d")); fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if err := s.Import(ctx, "missing", &bytes.Buffer{}); errdefs.ClassOf(err) != errdefs.NotFound {
		t.Fatalf("import into missing: %v", err)
	}
}
