// Package image is berth's image service: the set of images (config + manifest + layers), their
// names, and the operations on them (load, save, import, tag, remove, prune, list, inspect, history).
// Blobs live in the content store, unpacked layers in the snapshot store and records in the metadata
// store. A record is committed only after everything it points to is durable, and garbage collection
// removes whatever no record points to, so a crash at any point leaves a consistent store.
package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/metadata"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/snapshot/overlay"
)

const (
	bucketImages = "images"
	bucketRefs   = "refs"
)

// Config is an image configuration as docker writes it: the OCI config plus docker's extensions.
type Config struct {
	dockerspec.DockerOCIImage
	Comment string `json:"comment,omitempty"`
}

// record is what the metadata store keeps per image.
type record struct {
	ID       digest.Digest // digest of the config blob: the image ID
	Manifest digest.Digest
	Added    time.Time
	// Hidden marks a build step's result: build cache, not listed, until a build reveals it.
	Hidden bool `json:",omitempty"`
}

// refRecord is what the metadata store keeps per name.
type refRecord struct {
	ID     digest.Digest
	Tagged time.Time
}

// Image is a resolved image with its parsed blobs.
type Image struct {
	ID             digest.Digest
	ManifestDigest digest.Digest
	Manifest       ocispec.Manifest
	Config         Config
	// Chain holds the chain IDs of the layers, bottom first.
	Chain []digest.Digest
	// Size is the unpacked size of all layers.
	Size       int64
	layerSizes []int64
	Added      time.Time
	Refs       []string // normalized names, sorted
	Digests    []string // normalized name@digest references
	Hidden     bool     // build cache only (see record.Hidden)
}

// Labels returns the image's config labels.
func (img *Image) Labels() map[string]string { return img.Config.Config.Labels }

// Created returns the creation time recorded in the config, or zero.
func (img *Image) Created() time.Time {
	if img.Config.Created == nil {
		return time.Time{}
	}
	return *img.Config.Created
}

// Progress receives what long operations report as they go.
type Progress interface {
	// Layer reports progress on one layer, identified by a short ID.
	Layer(id, action string, current, total int64)
	// Line reports a line of text for the user.
	Line(text string)
}

// Service implements the image operations.
type Service struct {
	content *content.Store
	layers  *overlay.Store
	db      *metadata.DB
	log     *slog.Logger

	// gcMu is held shared by operations that write blobs or layers before committing a record, and
	// exclusively by garbage collection, so GC never removes what a pending operation is about to use.
	gcMu sync.RWMutex
	// mu serialises metadata changes that read before they write (tag moves, deletes).
	mu sync.Mutex

	cacheMu sync.Mutex
	cache   map[digest.Digest]*parsed

	users    Users
	registry *registry.Client
}

// Users tells which images containers are built on; the container service provides it.
type Users interface {
	// ImageUser returns a container using image id and whether it runs.
	ImageUser(id digest.Digest) (containerID string, running, inUse bool)
}

// SetUsers wires the container service in once both exist.
func (s *Service) SetUsers(u Users) { s.users = u }

func (s *Service) userOf(id digest.Digest) (string, bool, bool) {
	if s.users == nil {
		return "", false, false
	}
	return s.users.ImageUser(id)
}

type parsed struct {
	manifest ocispec.Manifest
	config   Config
	chain    []digest.Digest
	sizes    []int64
	size     int64
}

// New returns the image service over the given stores and collects garbage left by a previous run.
func New(cs *content.Store, layers *overlay.Store, db *metadata.DB, log *slog.Logger) (*Service, error) {
	s := &Service{content: cs, layers: layers, db: db, log: log, cache: map[digest.Digest]*parsed{}}
	if err := cs.CleanIngest(); err != nil {
		return nil, err
	}
	if _, err := s.GC(context.Background()); err != nil {
		return nil, fmt.Errorf("image store garbage collection: %w", err)
	}
	return s, nil
}

// parse reads and caches the manifest and config of image id.
func (s *Service) parse(rec record) (*parsed, error) {
	s.cacheMu.Lock()
	p, ok := s.cache[rec.ID]
	s.cacheMu.Unlock()
	if ok {
		return p, nil
	}
	p = &parsed{}
	raw, err := s.content.ReadAll(rec.Manifest)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", rec.ID, err)
	}
	if err := json.Unmarshal(raw, &p.manifest); err != nil {
		return nil, fmt.Errorf("image %s: corrupt manifest: %w", rec.ID, err)
	}
	raw, err = s.content.ReadAll(rec.ID)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", rec.ID, err)
	}
	if err := json.Unmarshal(raw, &p.config); err != nil {
		return nil, fmt.Errorf("image %s: corrupt config: %w", rec.ID, err)
	}
	var parent digest.Digest
	for _, diffID := range p.config.RootFS.DiffIDs {
		parent = overlay.ChainID(parent, diffID)
		p.chain = append(p.chain, parent)
		l, err := s.layers.Get(parent)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", rec.ID, err)
		}
		p.sizes = append(p.sizes, l.Size)
		p.size += l.Size
	}
	s.cacheMu.Lock()
	s.cache[rec.ID] = p
	s.cacheMu.Unlock()
	return p, nil
}

// snapshot is a consistent view of all images and names.
type snapshot struct {
	images map[digest.Digest]*Image
	refs   map[string]refRecord
}

func (s *Service) snapshot(tx *metadata.Tx) (*snapshot, error) {
	snap := &snapshot{images: map[digest.Digest]*Image{}, refs: map[string]refRecord{}}
	err := tx.ForEach(bucketImages, func(_ string, raw []byte) error {
		var rec record
		if err := json.Unmarshal(raw, &rec); err != nil {
			return err
		}
		p, err := s.parse(rec)
		if err != nil {
			return err
		}
		snap.images[rec.ID] = &Image{ID: rec.ID, ManifestDigest: rec.Manifest, Manifest: p.manifest, Config: p.config, Chain: p.chain, Size: p.size, layerSizes: p.sizes, Added: rec.Added, Hidden: rec.Hidden}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tx.ForEach(bucketRefs, func(name string, raw []byte) error {
		var rr refRecord
		if err := json.Unmarshal(raw, &rr); err != nil {
			return err
		}
		snap.refs[name] = rr
		if img, ok := snap.images[rr.ID]; ok {
			if strings.Contains(name, "@") {
				img.Digests = append(img.Digests, name)
			} else {
				img.Refs = append(img.Refs, name)
			}
		}
		return nil
	})
	for _, img := range snap.images {
		sort.Strings(img.Refs)
		sort.Strings(img.Digests)
	}
	return snap, err
}

func (s *Service) view() (*snapshot, error) {
	var snap *snapshot
	err := s.db.View(func(tx *metadata.Tx) error {
		var err error
		snap, err = s.snapshot(tx)
		return err
	})
	return snap, err
}

// resolve finds the image a user's name means: a reference first, then a full or abbreviated ID.
// It also returns the normalized reference when name was one.
func (snap *snapshot) resolve(name string) (*Image, string, error) {
	if name == "" {
		return nil, "", errdefs.InvalidArgumentf("image name must not be empty")
	}
	ref, perr := parseTagged(name)
	if perr == nil {
		if rr, ok := snap.refs[ref.String()]; ok {
			if img, ok := snap.images[rr.ID]; ok {
				return img, ref.String(), nil
			}
		}
	}
	if hexID.MatchString(name) {
		prefix := strings.TrimPrefix(name, "sha256:")
		var found *Image
		for id, img := range snap.images {
			if strings.HasPrefix(id.Encoded(), prefix) {
				if found != nil {
					return nil, "", errdefs.InvalidArgumentf("image ID prefix %q is ambiguous; use more characters", name)
				}
				found = img
			}
		}
		if found != nil {
			return found, "", nil
		}
	}
	if perr != nil && !hexID.MatchString(name) {
		return nil, "", perr
	}
	shown := name
	if perr == nil && !hexID.MatchString(name) {
		shown = familiar(ref.String())
	}
	return nil, "", errdefs.NotFoundf("No such image: %s", shown)
}

// Get returns the image name refers to.
func (s *Service) Get(ctx context.Context, name string) (*Image, error) {
	snap, err := s.view()
	if err != nil {
		return nil, err
	}
	img, _, err := snap.resolve(name)
	return img, err
}

// Count returns the number of images.
func (s *Service) Count() (int, error) {
	snap, err := s.view()
	if err != nil {
		return 0, err
	}
	return len(snap.sorted()), nil
}

// commit records img (whose blobs and layers are durable) and points refs at it, in one transaction.
// A name that pointed at another image moves; Line reports that like docker does.
func (s *Service) commit(rec record, refs []string, progress Progress) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.Update(func(tx *metadata.Tx) error {
		var existing record
		ok, err := tx.Get(bucketImages, rec.ID.String(), &existing)
		if err != nil {
			return err
		}
		if !ok || (existing.Hidden && !rec.Hidden) {
			if err := tx.Put(bucketImages, rec.ID.String(), rec); err != nil {
				return err
			}
		}
		now := time.Now().UTC()
		for _, ref := range refs {
			var old refRecord
			had, err := tx.Get(bucketRefs, ref, &old)
			if err != nil {
				return err
			}
			if had && old.ID != rec.ID && progress != nil {
				progress.Line(fmt.Sprintf("The image %s already exists, renaming the old one with ID %s to empty string", familiar(ref), old.ID))
			}
			if err := tx.Put(bucketRefs, ref, refRecord{ID: rec.ID, Tagged: now}); err != nil {
				return err
			}
		}
		return nil
	})
}

// record returns the stored record of image id and whether there is one.
func (s *Service) record(id digest.Digest) (record, bool, error) {
	var rec record
	var ok bool
	err := s.db.View(func(tx *metadata.Tx) error {
		var err error
		ok, err = tx.Get(bucketImages, id.String(), &rec)
		return err
	})
	return rec, ok, err
}

// Tag points name repo:tag at the image source refers to.
func (s *Service) Tag(ctx context.Context, source, repo, tag string) error {
	ref, err := parseRepoTag(repo, tag)
	if err != nil {
		return err
	}
	img, err := s.Get(ctx, source)
	if err != nil {
		return err
	}
	rec, _, err := s.record(img.ID)
	if err != nil {
		return err
	}
	return s.commit(rec, []string{ref.String()}, nil)
}

// GC removes blobs and layers no image refers to and returns the bytes of layers freed.
func (s *Service) GC(ctx context.Context) (int64, error) {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	snap, err := s.view()
	if err != nil {
		return 0, err
	}
	blobs := map[digest.Digest]bool{}
	chains := map[digest.Digest]bool{}
	for _, img := range snap.images {
		// An image record only goes while no container uses it, so its layers are safe here.
		blobs[img.ID] = true
		blobs[img.ManifestDigest] = true
		for _, l := range img.Manifest.Layers {
			blobs[l.Digest] = true
		}
		for _, c := range img.Chain {
			chains[c] = true
		}
	}
	var removed []digest.Digest
	if err := s.content.Walk(func(d digest.Digest, _ int64) error {
		if !blobs[d] {
			removed = append(removed, d)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, d := range removed {
		if err := s.content.Delete(d); err != nil {
			return 0, err
		}
	}
	layers, err := s.layers.List()
	if err != nil {
		return 0, err
	}
	var freed int64
	for _, l := range layers {
		if chains[l.ChainID] {
			continue
		}
		if err := s.layers.Remove(l.ChainID); err != nil {
			return freed, err
		}
		freed += l.Size
	}
	if len(removed) > 0 || freed > 0 {
		s.log.Debug("garbage collected", "blobs", len(removed), "layer_bytes", freed)
	}
	return freed, nil
}

// shortID is the 12-character form of a digest that docker shows.
func shortID(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		return e[:12]
	}
	return e
}

// copyN copies exactly n bytes or fails.
func copyN(w io.Writer, r io.Reader, n int64) error {
	got, err := io.CopyN(w, r, n)
	if err != nil {
		return fmt.Errorf("copied %d of %d bytes: %w", got, n, err)
	}
	return nil
}
