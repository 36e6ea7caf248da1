package image

import (
	"bytes"
	"context"
	"encoding/json"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/metadata"
)

// emptyTar is the diff ID of a tar with no entries.
const emptyTar = digest.Digest("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef")

// StepLayer is the new layer of a build step: an uncompressed tar, or a blob already stored
// (a layer of a --cache-from image).
type StepLayer struct {
	Tar  io.Reader
	Blob digest.Digest
}

// BuildStep stores the result of one build step: cfg (complete but for RootFS, which is filled here)
// on top of parent (nil for scratch), with layer as a new layer, or none when layer is nil. The
// image is recorded hidden, as build cache, until Reveal.
func (s *Service) BuildStep(ctx context.Context, parent *Image, cfg Config, layer *StepLayer) (digest.Digest, error) {
	var diffIDs, blobs []digest.Digest
	if parent != nil {
		diffIDs = append(diffIDs, parent.Config.RootFS.DiffIDs...)
		for _, l := range parent.Manifest.Layers {
			blobs = append(blobs, l.Digest)
		}
	}
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	if layer != nil {
		blob := layer.Blob
		if blob == "" {
			var err error
			if blob, _, err = s.content.Write(layer.Tar, ""); err != nil {
				return "", err
			}
		}
		diffID, err := s.diffID(blob)
		if err != nil {
			return "", err
		}
		if diffID == emptyTar {
			// A step that changed nothing adds no layer; docker marks its history entry empty.
			if n := len(cfg.History); n > 0 {
				cfg.History[n-1].EmptyLayer = true
			}
		} else {
			diffIDs, blobs = append(diffIDs, diffID), append(blobs, blob)
		}
	}
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}
	if cfg.RootFS.DiffIDs == nil {
		cfg.RootFS.DiffIDs = []digest.Digest{}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	id, _, err := s.content.Write(bytes.NewReader(raw), "")
	if err != nil {
		return "", err
	}
	rec, err := s.addImage(ctx, loadCandidate{config: id, layers: blobs}, discardProgress{})
	if err != nil {
		return "", err
	}
	rec.Hidden = true
	return id, s.commit(rec, nil, nil)
}

// Reveal makes built image id a listed image and points refs (user names, tagged "latest" when
// they have no tag) at it. It returns the normalized names.
func (s *Service) Reveal(ctx context.Context, id digest.Digest, refs []string, progress Progress) ([]string, error) {
	names := make([]string, 0, len(refs))
	for _, r := range refs {
		ref, err := parseTagged(r)
		if err != nil {
			return nil, err
		}
		names = append(names, ref.String())
	}
	rec, ok, err := s.record(id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errdefs.NotFoundf("No such image: %s", id)
	}
	rec.Hidden = false
	if err := s.commit(rec, names, progress); err != nil {
		return nil, err
	}
	for i, n := range names {
		names[i] = familiar(n)
	}
	return names, nil
}

// HiddenImages lists the build-cache images.
func (s *Service) HiddenImages() (map[digest.Digest]*Image, error) {
	snap, err := s.view()
	if err != nil {
		return nil, err
	}
	out := map[digest.Digest]*Image{}
	for id, img := range snap.images {
		if img.Hidden {
			out[id] = img
		}
	}
	return out, nil
}

// DropHidden removes the records of the hidden images among ids that no container uses, then
// collects garbage; it returns the bytes of layers freed.
func (s *Service) DropHidden(ctx context.Context, ids []digest.Digest) (int64, error) {
	inUse := map[digest.Digest]bool{} // asked outside the transaction, as in Remove
	for _, id := range ids {
		_, _, inUse[id] = s.userOf(id)
	}
	s.mu.Lock()
	err := s.db.Update(func(tx *metadata.Tx) error {
		for _, id := range ids {
			var rec record
			ok, err := tx.Get(bucketImages, id.String(), &rec)
			if err != nil {
				return err
			}
			if !ok || !rec.Hidden {
				continue
			}
			if inUse[id] {
				continue
			}
			if err := tx.Delete(bucketImages, id.String()); err != nil {
				return err
			}
		}
		return nil
	})
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return s.GC(ctx)
}
