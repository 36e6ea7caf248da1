package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/snapshot/overlay"
)

const (
	// Small archive members are kept in memory while the tar streams; larger ones go to the content store.
	smallFile     = 1 << 20
	smallFilesMax = 64 << 20

	annotationImageName = "io.containerd.image.name"
)

// saveManifestEntry is one element of a docker-save manifest.json.
type saveManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// loadArchive is what one pass over a docker-save or OCI layout tar yields.
type loadArchive struct {
	small    map[string][]byte        // member path -> content
	stored   map[string]digest.Digest // member path -> blob in the content store
	links    map[string]string        // member path -> member it points to
	ingested []digest.Digest
}

func (a *loadArchive) resolve(name string) (string, error) {
	name = path.Clean(name)
	for i := 0; i < 16; i++ {
		target, ok := a.links[name]
		if !ok {
			return name, nil
		}
		name = target
	}
	return "", errdefs.InvalidArgumentf("invalid archive: too many links resolving %q", name)
}

func (a *loadArchive) file(name string) ([]byte, bool, error) {
	name, err := a.resolve(name)
	if err != nil {
		return nil, false, err
	}
	b, ok := a.small[name]
	return b, ok, nil
}

// blob makes sure member name is in the content store and returns its digest.
func (s *Service) blobOf(a *loadArchive, name string) (digest.Digest, error) {
	name, err := a.resolve(name)
	if err != nil {
		return "", err
	}
	if d, ok := a.stored[name]; ok {
		return d, nil
	}
	b, ok := a.small[name]
	if !ok {
		return "", errdefs.InvalidArgumentf("invalid archive: %q is referenced but missing", name)
	}
	var expected digest.Digest
	if strings.HasPrefix(name, "blobs/sha256/") {
		expected = digest.NewDigestFromEncoded(digest.SHA256, path.Base(name))
	}
	d, _, err := s.content.Write(bytes.NewReader(b), expected)
	if err != nil {
		return "", fmt.Errorf("invalid archive member %q: %w", name, err)
	}
	a.stored[name] = d
	a.ingested = append(a.ingested, d)
	return d, nil
}

// readArchive streams the tar once, validating member names and verifying blob digests.
func (s *Service) readArchive(ctx context.Context, r io.Reader) (*loadArchive, error) {
	a := &loadArchive{small: map[string][]byte{}, stored: map[string]digest.Digest{}, links: map[string]string{}}
	tr := tar.NewReader(r)
	var inMemory int64
	for {
		if err := ctx.Err(); err != nil {
			return a, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return a, errdefs.InvalidArgumentf("invalid archive: truncated or corrupt tar: %v", err)
		}
		name, err := memberName(hdr.Name)
		if err != nil {
			return a, err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
		case tar.TypeSymlink:
			target := path.Join(path.Dir(name), hdr.Linkname)
			if path.IsAbs(hdr.Linkname) || target == ".." || strings.HasPrefix(target, "../") {
				return a, errdefs.InvalidArgumentf("invalid archive: symlink %q points outside the archive", hdr.Name)
			}
			a.links[name] = target
		case tar.TypeLink:
			target, err := memberName(hdr.Linkname)
			if err != nil {
				return a, err
			}
			a.links[name] = target
		case tar.TypeReg:
			if hdr.Size <= smallFile && inMemory+hdr.Size <= smallFilesMax {
				b, err := io.ReadAll(tr)
				if err != nil {
					return a, errdefs.InvalidArgumentf("invalid archive: truncated or corrupt tar: member %q: %v", hdr.Name, err)
				}
				a.small[name] = b
				inMemory += hdr.Size
				continue
			}
			var expected digest.Digest
			if strings.HasPrefix(name, "blobs/sha256/") {
				expected = digest.NewDigestFromEncoded(digest.SHA256, path.Base(name))
			}
			src := &readErr{r: tr}
			d, _, err := s.content.Write(src, expected)
			switch {
			case src.err != nil:
				return a, errdefs.InvalidArgumentf("invalid archive: truncated or corrupt tar: reading member %q: %v", hdr.Name, src.err)
			case errdefs.IsInvalidArgument(err):
				return a, fmt.Errorf("invalid archive member %q: %w", hdr.Name, err)
			case err != nil:
				return a, err // the store failed (disk full, I/O error), not the archive
			}
			a.stored[name] = d
			a.ingested = append(a.ingested, d)
		default:
			return a, errdefs.InvalidArgumentf("invalid archive: member %q has unsupported type %q", hdr.Name, string(hdr.Typeflag))
		}
	}
	return a, nil
}

func memberName(name string) (string, error) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", errdefs.InvalidArgumentf("invalid archive: member %q escapes the archive root", name)
	}
	return clean, nil
}

// loadCandidate is one image found in an archive.
type loadCandidate struct {
	config   digest.Digest
	manifest digest.Digest // empty when the archive has none (legacy docker save)
	layers   []digest.Digest
	refs     []string
}

// Load reads a docker-save or OCI layout tar, adds its images and reports what it loaded.
func (s *Service) Load(ctx context.Context, r io.Reader, progress Progress) error {
	s.gcMu.RLock()
	a, err := s.readArchive(ctx, r)
	if err == nil {
		err = s.loadImages(ctx, a, progress)
	}
	s.gcMu.RUnlock()
	if err != nil && len(a.ingested) > 0 {
		// Drop what this load stored but no image kept.
		if _, gerr := s.GC(context.Background()); gerr != nil {
			s.log.Warn("cleanup after failed load", "err", gerr)
		}
	}
	return err
}

func (s *Service) loadImages(ctx context.Context, a *loadArchive, progress Progress) error {
	cands, err := s.candidates(a)
	if err != nil {
		return err
	}
	if len(cands) == 0 {
		return errdefs.InvalidArgumentf("invalid archive: no manifest.json or index.json found; is this an image archive made by docker save?")
	}
	for _, c := range cands {
		rec, err := s.addImage(ctx, c, progress)
		if err != nil {
			return err
		}
		if err := s.commit(rec, c.refs, progress); err != nil {
			return err
		}
		if len(c.refs) == 0 {
			progress.Line("Loaded image ID: " + rec.ID.String())
		}
		for _, ref := range c.refs {
			progress.Line("Loaded image: " + familiar(ref))
		}
	}
	return nil
}

func (s *Service) candidates(a *loadArchive) ([]loadCandidate, error) {
	var cands []loadCandidate
	byConfig := map[digest.Digest]int{}
	if raw, ok, err := a.file("manifest.json"); err != nil {
		return nil, err
	} else if ok {
		var entries []saveManifestEntry
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, errdefs.InvalidArgumentf("invalid archive: manifest.json: %v", err)
		}
		for _, e := range entries {
			c := loadCandidate{}
			if c.config, err = s.blobOf(a, e.Config); err != nil {
				return nil, err
			}
			for _, l := range e.Layers {
				d, err := s.blobOf(a, l)
				if err != nil {
					return nil, err
				}
				c.layers = append(c.layers, d)
			}
			for _, t := range e.RepoTags {
				ref, err := parseTagged(t)
				if err != nil {
					return nil, fmt.Errorf("invalid archive: tag %q: %w", t, err)
				}
				c.refs = append(c.refs, ref.String())
			}
			byConfig[c.config] = len(cands)
			cands = append(cands, c)
		}
	}
	raw, ok, err := a.file("index.json")
	if err != nil || !ok {
		return cands, err
	}
	var index ocispec.Index
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, errdefs.InvalidArgumentf("invalid archive: index.json: %v", err)
	}
	for _, desc := range index.Manifests {
		m, md, err := s.platformManifest(a, desc, 0)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		if i, ok := byConfig[m.Config.Digest]; ok {
			// manifest.json named the tags; the index gives the manifest blob to keep.
			cands[i].manifest = md
			continue
		}
		c := loadCandidate{config: m.Config.Digest, manifest: md}
		if _, err := s.blobOf(a, "blobs/sha256/"+m.Config.Digest.Encoded()); err != nil {
			return nil, err
		}
		for _, l := range m.Layers {
			d, err := s.blobOf(a, "blobs/sha256/"+l.Digest.Encoded())
			if err != nil {
				return nil, err
			}
			c.layers = append(c.layers, d)
		}
		if name := desc.Annotations[annotationImageName]; name != "" {
			if ref, err := parseTagged(name); err == nil {
				c.refs = append(c.refs, ref.String())
			}
		} else if name := desc.Annotations[ocispec.AnnotationRefName]; strings.ContainsAny(name, "/:") {
			if ref, err := parseTagged(name); err == nil {
				c.refs = append(c.refs, ref.String())
			}
		}
		byConfig[c.config] = len(cands)
		cands = append(cands, c)
	}
	return cands, nil
}

// platformManifest follows desc (a manifest or a nested index) to the manifest for this host's platform.
func (s *Service) platformManifest(a *loadArchive, desc ocispec.Descriptor, depth int) (*ocispec.Manifest, digest.Digest, error) {
	if depth > 4 {
		return nil, "", errdefs.InvalidArgumentf("invalid archive: indexes nested too deep")
	}
	d, err := s.blobOf(a, "blobs/sha256/"+desc.Digest.Encoded())
	if err != nil {
		return nil, "", err
	}
	if d != desc.Digest {
		return nil, "", errdefs.InvalidArgumentf("invalid archive: blob %s has digest %s", desc.Digest, d)
	}
	raw, err := s.content.ReadAll(d)
	if err != nil {
		return nil, "", err
	}
	switch desc.MediaType {
	case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			return nil, "", errdefs.InvalidArgumentf("invalid archive: index %s: %v", d, err)
		}
		for _, m := range idx.Manifests {
			if m.Platform != nil && (m.Platform.OS != "linux" || m.Platform.Architecture != runtime.GOARCH) {
				continue
			}
			if !a.has("blobs/sha256/" + m.Digest.Encoded()) {
				continue // other platforms are often absent from single-platform saves
			}
			return s.platformManifest(a, m, depth+1)
		}
		return nil, "", nil
	case ocispec.MediaTypeImageManifest, "application/vnd.docker.distribution.manifest.v2+json":
		var m ocispec.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, "", errdefs.InvalidArgumentf("invalid archive: manifest %s: %v", d, err)
		}
		return &m, d, nil
	default:
		return nil, "", nil // attestations and other artifacts are not images
	}
}

func (a *loadArchive) has(name string) bool {
	name, err := a.resolve(name)
	if err != nil {
		return false
	}
	_, small := a.small[name]
	_, stored := a.stored[name]
	return small || stored
}

// addImage verifies a candidate's config and layers, unpacks the layers and stores a manifest if the
// archive had none. The returned record is ready to commit.
func (s *Service) addImage(ctx context.Context, c loadCandidate, progress Progress) (record, error) {
	raw, err := s.content.ReadAll(c.config)
	if err != nil {
		return record{}, err
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return record{}, errdefs.InvalidArgumentf("invalid image config %s: %v", c.config, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(c.layers) {
		return record{}, errdefs.InvalidArgumentf("invalid image %s: config lists %d layers, manifest %d", shortID(c.config), len(cfg.RootFS.DiffIDs), len(c.layers))
	}
	descs := make([]ocispec.Descriptor, len(c.layers))
	var parent digest.Digest
	for i, blob := range c.layers {
		desc, err := s.unpackBlob(ctx, parent, cfg.RootFS.DiffIDs[i], blob, progress)
		if err != nil {
			return record{}, fmt.Errorf("layer %d of image %s: %w", i+1, shortID(c.config), err)
		}
		descs[i] = desc
		parent = overlay.ChainID(parent, cfg.RootFS.DiffIDs[i])
	}
	md := c.manifest
	if md == "" {
		m := ocispec.Manifest{
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: c.config, Size: int64(len(raw))},
			Layers:    descs,
		}
		m.SchemaVersion = 2
		mraw, _ := json.Marshal(m)
		if md, _, err = s.content.Write(bytes.NewReader(mraw), ""); err != nil {
			return record{}, err
		}
	}
	return record{ID: c.config, Manifest: md, Added: time.Now().UTC()}, nil
}

// unpackBlob unpacks one layer blob (any compression) on top of parent and describes the blob.
func (s *Service) unpackBlob(ctx context.Context, parent, diffID, blob digest.Digest, progress Progress) (ocispec.Descriptor, error) {
	f, err := s.content.Open(blob)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: blob, Size: st.Size()}
	var magic [4]byte
	if n, _ := io.ReadFull(f, magic[:]); n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		desc.MediaType = ocispec.MediaTypeImageLayerGzip
	} else if n == 4 && bytes.Equal(magic[:], []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		desc.MediaType = ocispec.MediaTypeImageLayerZstd
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return desc, err
	}
	id := shortID(diffID)
	progress.Layer(id, "Loading layer", 0, st.Size())
	rc, err := archive.Decompress(f)
	if err != nil {
		return desc, errdefs.InvalidArgumentf("layer %s: %v", blob, err)
	}
	defer rc.Close()
	if _, err := s.layers.Unpack(ctx, parent, diffID, rc); err != nil {
		return desc, err
	}
	progress.Layer(id, "Loading layer", st.Size(), st.Size())
	return desc, nil
}

// readErr remembers the reader's own error so a bad archive is told apart from a failing disk.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}
