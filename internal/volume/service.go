// Package volume is berth's volume service and its local driver: named and anonymous volumes whose
// data lives under <data-root>/volumes/<name>/_data (or in a filesystem mounted there from the
// type/device/o options), records in the metadata store, and the count of containers using each.
// It also parses and validates the container mount specifications (-v, --mount, --volumes-from),
// which name volumes and host paths.
package volume

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/volume"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/host"
	"github.com/berth-project/berth/internal/metadata"
)

const bucket = "volumes"

// trashPrefix names a volume directory being deleted; whatever carries it at start is removed.
const trashPrefix = ".trash-"

// Events receives what the service did.
type Events interface {
	Emit(typ, action, id string, attrs map[string]string)
}

type record struct {
	Name      string
	Driver    string
	Labels    map[string]string `json:",omitempty"`
	Options   map[string]string `json:",omitempty"`
	CreatedAt time.Time
}

type vol struct {
	record
	refs    map[string]bool // containers whose record names the volume
	mounted map[string]bool // users that have it mounted now
}

// Service owns every volume.
type Service struct {
	root   string // data-root/volumes
	db     *metadata.DB
	events Events
	log    *slog.Logger

	mu   sync.Mutex
	vols map[string]*vol
}

// New loads the volume records and removes directories no record names: the leftovers of a create
// or remove that a crash interrupted.
func New(root string, db *metadata.DB, ev Events, log *slog.Logger) (*Service, error) {
	if err := host.MkdirSpread(root, 0o701); err != nil {
		return nil, err
	}
	s := &Service{root: root, db: db, events: ev, log: log, vols: map[string]*vol{}}
	err := db.View(func(tx *metadata.Tx) error {
		return tx.ForEach(bucket, func(key string, raw []byte) error {
			var r record
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("volume record %s: %w", key, err)
			}
			s.vols[r.Name] = &vol{record: r, refs: map[string]bool{}, mounted: map[string]bool{}}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if _, ok := s.vols[e.Name()]; ok {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if isMountpoint(filepath.Join(dir, "_data")) {
			log.Warn("leaving orphaned volume directory alone: a filesystem is mounted on it", "dir", dir)
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("removing orphaned volume directory", "dir", dir, "err", err)
		}
	}
	return s, nil
}

func (s *Service) dataDir(name string) string { return filepath.Join(s.root, name, "_data") }

// CreateOptions is a volume create request; Ref, if set, is a container that takes a reference in
// the same step, so no prune can remove the volume between its creation and its use.
type CreateOptions struct {
	Name    string
	Driver  string
	Options map[string]string
	Labels  map[string]string
	Ref     string
}

func newName() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// Create makes a volume; creating an existing one returns it as it is, as docker does.
func (s *Service) Create(ctx context.Context, o CreateOptions) (*volume.Volume, error) {
	if o.Driver == "" {
		o.Driver = DefaultDriver
	}
	if o.Driver != DefaultDriver {
		return nil, errdefs.NotFoundf("error looking up volume plugin %s: plugin %q not found", o.Driver, o.Driver)
	}
	if o.Name == "" {
		o.Name = newName()
	}
	if err := ValidateName(o.Name); err != nil {
		return nil, err
	}
	if err := validateOptions(o.Options); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.vols[o.Name]; ok {
		if o.Ref != "" {
			v.refs[o.Ref] = true
		}
		return s.view(v), nil
	}
	if err := os.MkdirAll(s.dataDir(o.Name), 0o755); err != nil {
		return nil, err
	}
	r := record{Name: o.Name, Driver: o.Driver, Labels: o.Labels, Options: o.Options, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	// The directory exists before the record is committed: a crash in between leaves an orphan that
	// the next start removes, never a record without its data.
	if err := s.db.Update(func(tx *metadata.Tx) error { return tx.Put(bucket, r.Name, r) }); err != nil {
		os.RemoveAll(filepath.Join(s.root, r.Name))
		return nil, err
	}
	v := &vol{record: r, refs: map[string]bool{}, mounted: map[string]bool{}}
	if o.Ref != "" {
		v.refs[o.Ref] = true
	}
	s.vols[r.Name] = v
	s.events.Emit("volume", "create", r.Name, map[string]string{"driver": r.Driver})
	return s.view(v), nil
}

func (s *Service) view(v *vol) *volume.Volume {
	return &volume.Volume{
		Name: v.Name, Driver: v.Driver, Mountpoint: s.dataDir(v.Name), CreatedAt: v.CreatedAt.Format(time.RFC3339),
		Labels: v.Labels, Options: v.Options, Scope: "local",
	}
}

func notFound(name string) error { return errdefs.NotFoundf("get %s: no such volume", name) }

// Get returns one volume as GET /volumes/{name} shows it.
func (s *Service) Get(ctx context.Context, name string) (*volume.Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return nil, notFound(name)
	}
	return s.view(v), nil
}

// List returns the volumes matching f (dangling, name, label, label!, driver), sorted by name.
func (s *Service) List(ctx context.Context, f filters.Args) ([]*volume.Volume, error) {
	if err := f.Validate("dangling", "name", "label", "label!", "driver"); err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	var dangling *bool
	for _, d := range f.Get("dangling") {
		b, err := strconv.ParseBool(d)
		if err != nil {
			return nil, errdefs.InvalidArgumentf("invalid filter 'dangling=%s'", d)
		}
		dangling = &b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*volume.Volume{}
	for _, v := range s.sorted() {
		if dangling != nil && (len(v.refs) == 0) != *dangling {
			continue
		}
		if names := f.Get("name"); len(names) > 0 && !anyContains(v.Name, names) {
			continue
		}
		if drivers := f.Get("driver"); len(drivers) > 0 && !anyContains(v.Driver, drivers) {
			continue
		}
		if !f.MatchLabels("label", v.Labels) {
			continue
		}
		out = append(out, s.view(v))
	}
	return out, nil
}

func (s *Service) sorted() []*vol {
	vs := make([]*vol, 0, len(s.vols))
	for _, v := range s.vols {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Name < vs[j].Name })
	return vs
}

func anyContains(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// Remove deletes a volume and its data; one in use by a container is refused. With force a
// missing volume is not an error.
func (s *Service) Remove(ctx context.Context, name string, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		if force {
			return nil
		}
		return notFound(name)
	}
	if len(v.refs) > 0 {
		return errdefs.Conflictf("remove %s: volume is in use - [%s]", name, strings.Join(sortedKeys(v.refs), ", "))
	}
	return s.removeLocked(v)
}

// removeLocked drops the record, then moves the directory aside and deletes it; s.mu is held.
func (s *Service) removeLocked(v *vol) error {
	data := s.dataDir(v.Name)
	if isMountpoint(data) {
		// Deleting through a mount would delete the mounted filesystem's files (an NFS share, say).
		if err := unix.Unmount(data, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount volume %s: %w", v.Name, err)
		}
	}
	if err := s.db.Update(func(tx *metadata.Tx) error { return tx.Delete(bucket, v.Name) }); err != nil {
		return err
	}
	delete(s.vols, v.Name)
	trash := filepath.Join(s.root, trashPrefix+v.Name+"-"+newName()[:8])
	if err := os.Rename(filepath.Join(s.root, v.Name), trash); err == nil {
		go os.RemoveAll(trash) // a crash before it is done leaves an orphan the next start removes
	} else if !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("removing volume directory", "volume", v.Name, "err", err)
	}
	s.events.Emit("volume", "destroy", v.Name, map[string]string{"driver": v.Driver})
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Prune removes unused volumes matching the label filters: anonymous ones only, unless the filter
// all is true.
func (s *Service) Prune(ctx context.Context, f filters.Args) (*volume.PruneReport, error) {
	if err := f.Validate("label", "label!", "all"); err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	all := false
	for _, a := range f.Get("all") {
		b, err := strconv.ParseBool(a)
		if err != nil {
			return nil, errdefs.InvalidArgumentf("invalid filter 'all=%s': invalid value", a)
		}
		all = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	report := &volume.PruneReport{VolumesDeleted: []string{}}
	for _, v := range s.sorted() {
		if len(v.refs) > 0 || !f.MatchLabels("label", v.Labels) {
			continue
		}
		if _, anon := v.Labels[AnonymousLabel]; !anon && !all {
			continue
		}
		size := dirSize(s.dataDir(v.Name))
		if err := s.removeLocked(v); err != nil {
			s.log.Warn("prune volume", "volume", v.Name, "err", err)
			continue
		}
		report.VolumesDeleted = append(report.VolumesDeleted, v.Name)
		report.SpaceReclaimed += uint64(size)
	}
	return report, nil
}

// DiskUsage returns every volume with its size and reference count, for GET /system/df.
func (s *Service) DiskUsage(ctx context.Context) ([]*volume.Volume, error) {
	s.mu.Lock()
	vs := s.sorted()
	out := make([]*volume.Volume, 0, len(vs))
	refs := make([]int, 0, len(vs))
	for _, v := range vs {
		out = append(out, s.view(v))
		refs = append(refs, len(v.refs))
	}
	s.mu.Unlock()
	// Sizes are measured without the lock: walking a big volume must not stall container starts.
	for i, v := range out {
		v.UsageData = &volume.UsageData{Size: dirSize(v.Mountpoint), RefCount: int64(refs[i])}
	}
	return out, nil
}

// dirSize sums the sizes of the regular files under dir, counting hard links once.
func dirSize(dir string) int64 {
	var total int64
	seen := map[uint64]bool{}
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		total += fi.Size()
		return nil
	})
	return total
}

// Ref records that container id uses the volume.
func (s *Service) Ref(name, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return notFound(name)
	}
	v.refs[id] = true
	return nil
}

// Unref drops container id's reference (and its mount, if it still holds one).
func (s *Service) Unref(name, id string) {
	s.Unmount(name, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.vols[name]; ok {
		delete(v.refs, id)
	}
}

// Restore re-takes the reference of a container found at daemon start; running containers still
// have the volume mounted (they outlive berthd).
func (s *Service) Restore(name, id string, running bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		s.log.Warn("container names a missing volume", "volume", name, "container", id)
		return
	}
	v.refs[id] = true
	if running {
		v.mounted[id] = true
	}
}

// Mount makes the volume's data available for user and returns its host path: a plain directory,
// or the filesystem of the type/device/o options, mounted when its first user needs it.
func (s *Service) Mount(name, user string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return "", notFound(name)
	}
	data := s.dataDir(name)
	if needsMount(v.Options) && len(v.mounted) == 0 && !isMountpoint(data) {
		if err := mountDevice(v.Options, data); err != nil {
			return "", err
		}
	}
	v.mounted[user] = true
	return data, nil
}

// Unmount releases user's mount, unmounting the volume's filesystem after its last user. It reports
// whether user had the volume mounted.
func (s *Service) Unmount(name, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok || !v.mounted[user] {
		return false
	}
	delete(v.mounted, user)
	if needsMount(v.Options) && len(v.mounted) == 0 {
		if err := unix.Unmount(s.dataDir(name), 0); err != nil && !errors.Is(err, unix.EINVAL) {
			s.log.Warn("unmount volume", "volume", name, "err", err)
			unix.Unmount(s.dataDir(name), unix.MNT_DETACH)
		}
	}
	return true
}

// Anonymous reports whether the volume was made for a container rather than by name.
func (s *Service) Anonymous(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return false
	}
	_, anon := v.Labels[AnonymousLabel]
	return anon
}

// withData runs fn on the volume's data directory, mounted for the call if need be.
func (s *Service) withData(name string, fn func(dir string) error) error {
	user := "berth-archive-" + newName()[:12]
	dir, err := s.Mount(name, user)
	if err != nil {
		return err
	}
	defer s.Unmount(name, user)
	return fn(dir)
}

// Export writes the volume's content as a tar stream (berth's addition; podman has it too).
func (s *Service) Export(ctx context.Context, name string, w io.Writer) error {
	return s.withData(name, func(dir string) error {
		tw := tar.NewWriter(w)
		if err := archive.WriteTree(ctx, tw, dir, "", nil); err != nil {
			return err
		}
		return tw.Close()
	})
}

// Import unpacks a tar stream (plain or compressed) into the volume, over what it holds.
func (s *Service) Import(ctx context.Context, name string, r io.Reader) error {
	return s.withData(name, func(dir string) error {
		rc, err := archive.Decompress(r)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = archive.Apply(ctx, dir, rc, archive.ApplyOptions{})
		return err
	})
}
