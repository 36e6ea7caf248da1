package image

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// CommitOptions describe an image made from a container's writable layer.
type CommitOptions struct {
	Parent    digest.Digest                   // the container's image
	Config    dockerspec.DockerOCIImageConfig // the run config of the new image, before Changes
	Changes   []string                        // Dockerfile instructions applied to Config
	Repo, Tag string
	Comment   string
	Author    string
	CreatedBy string // the container's command, for the history
}

// Commit stores the uncompressed layer tar r on top of the parent image and returns the new image's ID.
func (s *Service) Commit(ctx context.Context, r io.Reader, opts CommitOptions) (digest.Digest, error) {
	var refs []string
	if opts.Repo != "" {
		ref, err := parseRepoTag(opts.Repo, opts.Tag)
		if err != nil {
			return "", err
		}
		refs = append(refs, ref.String())
	}
	parent, err := s.Get(ctx, opts.Parent.String())
	if err != nil {
		return "", err
	}
	// A deep copy of the parent's config keeps the cached image untouched.
	raw, err := json.Marshal(parent.Config)
	if err != nil {
		return "", err
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return "", err
	}
	cfg.Config = opts.Config
	if err := applyChanges(&cfg, opts.Changes); err != nil {
		return "", err
	}
	now := time.Now().UTC()
	cfg.Created = &now
	cfg.Author = opts.Author
	cfg.Comment = opts.Comment
	cfg.History = append(cfg.History, ocispec.History{Created: &now, CreatedBy: opts.CreatedBy, Comment: opts.Comment, Author: opts.Author})

	s.gcMu.RLock()
	id, err := s.commitLayer(ctx, r, cfg, parent, refs)
	s.gcMu.RUnlock()
	if err != nil {
		if _, gerr := s.GC(context.Background()); gerr != nil {
			s.log.Warn("cleanup after failed commit", "err", gerr)
		}
	}
	return id, err
}

func (s *Service) commitLayer(ctx context.Context, r io.Reader, cfg Config, parent *Image, refs []string) (digest.Digest, error) {
	blob, _, err := s.content.Write(r, "")
	if err != nil {
		return "", err
	}
	diffID, err := s.diffID(blob)
	if err != nil {
		return "", err
	}
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: append(append([]digest.Digest{}, parent.Config.RootFS.DiffIDs...), diffID)}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	id, _, err := s.content.Write(bytes.NewReader(raw), "")
	if err != nil {
		return "", err
	}
	layers := make([]digest.Digest, 0, len(parent.Manifest.Layers)+1)
	for _, l := range parent.Manifest.Layers {
		layers = append(layers, l.Digest)
	}
	layers = append(layers, blob)
	rec, err := s.addImage(ctx, loadCandidate{config: id, layers: layers, refs: refs}, discardProgress{})
	if err != nil {
		return "", err
	}
	return id, s.commit(rec, refs, nil)
}
