package image

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
)

// ImportOptions describe an image made from a root filesystem tar.
type ImportOptions struct {
	Repo, Tag string   // optional name
	Source    string   // "-" or the URL the tar came from, for the history comment
	Message   string   // history comment instead of "Imported from <source>"
	Changes   []string // Dockerfile instructions applied to the config
	Platform  string   // os[/arch[/variant]]; the host's by default
}

// Import stores the (possibly compressed) tar r as a single-layer image and returns its ID.
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions) (digest.Digest, error) {
	var refs []string
	if opts.Repo != "" {
		ref, err := parseRepoTag(opts.Repo, opts.Tag)
		if err != nil {
			return "", err
		}
		refs = append(refs, ref.String())
	}
	now := time.Now().UTC()
	cfg := Config{}
	cfg.Created = &now
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	if opts.Platform != "" {
		parts := strings.Split(opts.Platform, "/")
		if parts[0] != "linux" {
			return "", errdefs.InvalidArgumentf("unsupported platform %q: only linux images can run here", opts.Platform)
		}
		if len(parts) > 1 {
			cfg.Architecture = parts[1]
		}
		if len(parts) > 2 {
			cfg.Variant = parts[2]
		}
	}
	if err := applyChanges(&cfg, opts.Changes); err != nil {
		return "", err
	}
	comment := opts.Message
	if comment == "" {
		comment = "Imported from " + opts.Source
	}
	cfg.Comment = opts.Message
	cfg.History = []ocispec.History{{Created: &now, Comment: comment}}

	s.gcMu.RLock()
	id, err := s.importLayer(ctx, r, cfg, refs)
	s.gcMu.RUnlock()
	if err != nil {
		if _, gerr := s.GC(context.Background()); gerr != nil {
			s.log.Warn("cleanup after failed import", "err", gerr)
		}
	}
	return id, err
}

func (s *Service) importLayer(ctx context.Context, r io.Reader, cfg Config, refs []string) (digest.Digest, error) {
	blob, _, err := s.content.Write(r, "")
	if err != nil {
		return "", err
	}
	diffID, err := s.diffID(blob)
	if err != nil {
		return "", err
	}
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	id, _, err := s.content.Write(bytes.NewReader(raw), "")
	if err != nil {
		return "", err
	}
	rec, err := s.addImage(ctx, loadCandidate{config: id, layers: []digest.Digest{blob}, refs: refs}, discardProgress{})
	if err != nil {
		return "", err
	}
	return id, s.commit(rec, refs, nil)
}

// diffID hashes the uncompressed content of a layer blob.
func (s *Service) diffID(blob digest.Digest) (digest.Digest, error) {
	f, err := s.content.Open(blob)
	if err != nil {
		return "", err
	}
	defer f.Close()
	rc, err := archive.Decompress(f)
	if err != nil {
		return "", errdefs.InvalidArgumentf("import: %v", err)
	}
	defer rc.Close()
	d, err := digest.SHA256.FromReader(rc)
	if err != nil {
		return "", errdefs.InvalidArgumentf("import: corrupt compressed tar: %v", err)
	}
	return d, nil
}

type discardProgress struct{}

func (discardProgress) Layer(string, string, int64, int64) {}
func (discardProgress) Line(string)                        {}
