package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/api/filters"
	apitypes "github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/metadata"
)

const bucketCache = "buildcache"

// cacheRecord is one cached step: the image its key leads to.
type cacheRecord struct {
	Image       digest.Digest
	Parent      digest.Digest `json:",omitempty"`
	Description string        // the step's created_by
	Size        int64         // bytes of the step's own layer
	Created     time.Time
	LastUsed    time.Time
	UsageCount  int
}

// CacheKey is the key of a step: the parent image, the step's history text, its inputs beyond
// the text (content hashes, mount and network flags) and the run config it produces.
func CacheKey(parent digest.Digest, createdBy, inputs string, config any) string {
	h := sha256.New()
	cfg, _ := json.Marshal(config)
	for _, part := range []string{parent.String(), createdBy, inputs, string(cfg)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// lookup returns the cached image for key, if the record and its image are still there.
func (s *Service) lookup(ctx context.Context, key string) (*image.Image, *cacheRecord) {
	var rec cacheRecord
	var ok bool
	if err := s.db.View(func(tx *metadata.Tx) error {
		var err error
		ok, err = tx.Get(bucketCache, key, &rec)
		return err
	}); err != nil || !ok {
		return nil, nil
	}
	img, err := s.images.Get(ctx, rec.Image.String())
	if err != nil {
		return nil, nil
	}
	return img, &rec
}

// store writes cache records (new steps and used ones) in one transaction.
func (s *Service) store(recs map[string]*cacheRecord) error {
	if len(recs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.Update(func(tx *metadata.Tx) error {
		for k, r := range recs {
			if err := tx.Put(bucketCache, k, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// records returns every cache record by key.
func (s *Service) records() (map[string]*cacheRecord, error) {
	out := map[string]*cacheRecord{}
	err := s.db.View(func(tx *metadata.Tx) error {
		return tx.ForEach(bucketCache, func(k string, raw []byte) error {
			var r cacheRecord
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			out[k] = &r
			return nil
		})
	})
	return out, err
}

// sweep drops cache records whose image is gone and hidden images no record names (a build killed
// between storing a step and recording it).
func (s *Service) sweep(ctx context.Context) error {
	recs, err := s.records()
	if err != nil {
		return err
	}
	hidden, err := s.images.HiddenImages()
	if err != nil {
		return err
	}
	named := map[digest.Digest]bool{}
	var stale []string
	for k, r := range recs {
		named[r.Image] = true
		if _, err := s.images.Get(ctx, r.Image.String()); errdefs.IsNotFound(err) {
			stale = append(stale, k)
		}
	}
	var orphans []digest.Digest
	for id := range hidden {
		if !named[id] {
			orphans = append(orphans, id)
		}
	}
	if err := s.deleteRecords(stale); err != nil {
		return err
	}
	if len(orphans) > 0 {
		_, err = s.images.DropHidden(ctx, orphans)
	}
	return err
}

func (s *Service) deleteRecords(keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.Update(func(tx *metadata.Tx) error {
		for _, k := range keys {
			if err := tx.Delete(bucketCache, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// DiskUsage lists the build cache, newest first.
func (s *Service) DiskUsage(ctx context.Context) ([]apitypes.BuildCache, error) {
	recs, err := s.records()
	if err != nil {
		return nil, err
	}
	out := make([]apitypes.BuildCache, 0, len(recs))
	for k, r := range recs {
		out = append(out, entryOf(k, r))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func entryOf(key string, r *cacheRecord) apitypes.BuildCache {
	e := apitypes.BuildCache{ID: key[:25], Type: "regular", Description: r.Description, Size: r.Size, CreatedAt: r.Created, UsageCount: r.UsageCount}
	if r.Parent != "" {
		e.Parents = []string{r.Parent.Encoded()[:25]}
	}
	if !r.LastUsed.IsZero() {
		lu := r.LastUsed
		e.LastUsedAt = &lu
	}
	return e
}

// PruneOptions select what POST /build/prune removes.
type PruneOptions struct {
	All         bool  // also the steps that made images still listed (docker's "not just dangling")
	KeepStorage int64 // bytes of cache to keep, removing the least recently used first
	Filters     filters.Args
}

// Prune removes build cache records, and the hidden images only they named. Filters: until
// (a duration or timestamp), id, description~ (substring), type (regular).
func (s *Service) Prune(ctx context.Context, opts PruneOptions) (*apitypes.BuildCachePruneReport, error) {
	f := opts.Filters
	if err := f.Validate("until", "id", "description", "type", "inuse", "shared", "private", "description~", "unused-for"); err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	var until time.Time
	for _, key := range []string{"until", "unused-for"} {
		for _, v := range f.Get(key) {
			if d, err := time.ParseDuration(v); err == nil {
				until = time.Now().Add(-d)
				continue
			}
			t, err := filters.ParseTimestamp(v, time.Now())
			if err != nil {
				return nil, errdefs.InvalidArgumentf("invalid filter '%s=%s': %v", key, v, err)
			}
			until = t
		}
	}
	recs, err := s.records()
	if err != nil {
		return nil, err
	}
	type cand struct {
		key string
		rec *cacheRecord
	}
	var cands []cand
	for k, r := range recs {
		if !until.IsZero() && !r.LastUsed.Before(until) && !r.Created.Before(until) {
			continue
		}
		if ids := f.Get("id"); len(ids) > 0 && !matchAny(ids, func(v string) bool { return strings.HasPrefix(k, v) }) {
			continue
		}
		desc := append(f.Get("description"), f.Get("description~")...)
		if len(desc) > 0 && !matchAny(desc, func(v string) bool { return strings.Contains(r.Description, v) }) {
			continue
		}
		if t := f.Get("type"); len(t) > 0 && !matchAny(t, func(v string) bool { return v == "regular" }) {
			continue
		}
		if !opts.All {
			if img, err := s.images.Get(ctx, r.Image.String()); err == nil && !img.Hidden {
				continue
			}
		}
		cands = append(cands, cand{k, r})
	}
	// Oldest-used first, so keep-storage keeps the most recent.
	sort.Slice(cands, func(i, j int) bool { return cands[i].rec.LastUsed.Before(cands[j].rec.LastUsed) })
	if opts.KeepStorage > 0 {
		var total int64
		for _, r := range recs {
			total += r.Size
		}
		n := 0
		for n < len(cands) && total > opts.KeepStorage {
			total -= cands[n].rec.Size
			n++
		}
		cands = cands[:n]
	}
	rep := &apitypes.BuildCachePruneReport{CachesDeleted: []string{}}
	var keys []string
	gone := map[digest.Digest]bool{}
	for _, c := range cands {
		keys = append(keys, c.key)
		rep.CachesDeleted = append(rep.CachesDeleted, c.key[:25])
		gone[c.rec.Image] = true
	}
	if err := s.deleteRecords(keys); err != nil {
		return nil, err
	}
	for k, r := range recs {
		if !slices.Contains(keys, k) {
			delete(gone, r.Image) // still named by a record that stays
		}
	}
	ids := make([]digest.Digest, 0, len(gone))
	for id := range gone {
		ids = append(ids, id)
	}
	freed, err := s.images.DropHidden(ctx, ids)
	if err != nil {
		return nil, err
	}
	rep.SpaceReclaimed = uint64(freed)
	if len(keys) > 0 {
		s.log.Info("build cache pruned", "records", len(keys), "reclaimed", units.HumanSize(float64(freed)))
	}
	return rep, nil
}

func matchAny(vals []string, fn func(string) bool) bool {
	for _, v := range vals {
		if fn(v) {
			return true
		}
	}
	return false
}
