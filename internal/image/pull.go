package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/distribution/reference"
	apiregistry "github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/metadata"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/snapshot/overlay"
)

// bucketBlobSources maps a blob digest to the repositories (host/path) it was pulled from or pushed
// to, so a push to another repository of the same registry can mount it instead of uploading it.
const bucketBlobSources = "blobsources"

// maxBlobSources bounds how many repositories are remembered per blob.
const maxBlobSources = 5

// blobAttempts is how often one blob transfer is tried before a pull or push gives up.
const blobAttempts = 3

// Reporter receives pull and push progress in the shape of docker's JSON message stream.
type Reporter interface {
	Progress
	// Status reports a status line, for the item id when id is not empty.
	Status(id, text string)
	// Aux sends a machine-readable result (the pushed digest).
	Aux(v any)
}

// SetRegistry wires in the registry client pulls and pushes go through.
func (s *Service) SetRegistry(r *registry.Client) { s.registry = r }

// PullOptions are the options of a pull.
type PullOptions struct {
	Platform string // os[/arch[/variant]]; empty means this host's
	Auth     registry.AuthConfig
}

// Pull fetches image (name, name:tag or name@digest) from its registry; a bare name with allTags
// pulls every tag of the repository. Errors before anything was fetched (a missing manifest, bad
// credentials) come back before rep hears anything, so they can travel as a plain error reply.
func (s *Service) Pull(ctx context.Context, image string, allTags bool, opts PullOptions, rep Reporter) error {
	if s.registry == nil {
		return errdefs.NotImplementedf("registry access is not configured")
	}
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return errdefs.InvalidArgumentf("invalid reference format: %s", image)
	}
	platform, err := registry.ParsePlatform(opts.Platform)
	if err != nil {
		return err
	}
	refs := []reference.Named{reference.TagNameOnly(named)}
	if _, ok := named.(reference.Digested); ok {
		refs = []reference.Named{named}
	}
	if allTags && reference.IsNameOnly(named) {
		tags, err := s.registry.Tags(ctx, named, opts.Auth)
		if err != nil {
			return err
		}
		refs = refs[:0]
		for _, t := range tags {
			if r, err := reference.WithTag(named, t); err == nil {
				refs = append(refs, r)
			}
		}
		if len(refs) == 0 {
			return errdefs.NotFoundf("repository %s has no tags", reference.FamiliarName(named))
		}
	}
	for _, ref := range refs {
		src, err := s.registry.Resolve(ctx, ref, opts.Auth, platform, opts.Platform != "")
		if err != nil {
			return err
		}
		if err := s.pullOne(ctx, ref, src, rep); err != nil {
			return err
		}
	}
	if allTags && len(refs) > 1 {
		rep.Status("", "Status: Downloaded newer image for "+reference.FamiliarName(named))
	}
	return nil
}

func (s *Service) pullOne(ctx context.Context, ref reference.Named, src *registry.Source, rep Reporter) error {
	id := reference.Path(ref)
	item := ""
	if t, ok := ref.(reference.Tagged); ok {
		item = t.Tag()
	} else if d, ok := ref.(reference.Digested); ok {
		item = d.Digest().String()
	}
	rep.Status(item, "Pulling from "+id)

	var cfg Config
	if err := json.Unmarshal(src.RawConfig, &cfg); err != nil {
		return errdefs.InvalidArgumentf("image config of %s: %v", reference.FamiliarString(ref), err)
	}
	layers := src.Manifest.Layers
	if len(cfg.RootFS.DiffIDs) != len(layers) {
		return errdefs.InvalidArgumentf("invalid image %s: config lists %d layers, manifest %d", reference.FamiliarString(ref), len(cfg.RootFS.DiffIDs), len(layers))
	}
	imageID := src.Manifest.Config.Digest
	repoDigest, err := reference.WithDigest(reference.TrimNamed(ref), src.Digest)
	if err != nil {
		return err
	}
	names := []string{repoDigest.String()}
	if _, ok := ref.(reference.Tagged); ok {
		names = append(names, ref.String())
	}

	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	rec, existed, err := s.record(imageID)
	if err != nil {
		return err
	}
	if !existed {
		if err := s.fetchLayers(ctx, src, cfg.RootFS.DiffIDs, rep); err != nil {
			return err
		}
		for _, blob := range []struct {
			raw []byte
			d   digest.Digest
		}{{src.RawConfig, imageID}, {src.RawManifest, src.ManifestDigest}} {
			if _, _, err := s.content.Write(bytes.NewReader(blob.raw), blob.d); err != nil {
				return err
			}
		}
	}
	if !existed {
		rec = record{ID: imageID, Manifest: src.ManifestDigest, Added: time.Now().UTC()}
	}
	if err := s.commit(rec, names, nil); err != nil {
		return err
	}
	s.rememberSources(reference.Domain(ref)+"/"+reference.Path(ref), layers)
	rep.Status("", "Digest: "+src.Digest.String())
	if existed {
		rep.Status("", "Status: Image is up to date for "+reference.FamiliarString(ref))
	} else {
		rep.Status("", "Status: Downloaded newer image for "+reference.FamiliarString(ref))
	}
	return nil
}

// fetchLayers downloads and unpacks every layer the store lacks, all at once: a layer's unpack
// does not need its parent's content, only its chain ID.
func (s *Service) fetchLayers(ctx context.Context, src *registry.Source, diffIDs []digest.Digest, rep Reporter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	layers := src.Manifest.Layers
	parents := make([]digest.Digest, len(layers))
	var parent digest.Digest
	for i := range layers {
		parents[i] = parent
		parent = overlay.ChainID(parent, diffIDs[i])
	}
	for _, l := range layers {
		rep.Layer(shortID(l.Digest), "Pulling fs layer", 0, 0)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(layers))
	for i, l := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = s.fetchLayer(ctx, src, l, parents[i], diffIDs[i], rep); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	// The first failure is the cause; the others are mostly its cancellation.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}

// fetchLayer makes sure blob desc is in the content store and unpacked on parent, retrying
// transient failures. A complete blob from an earlier, interrupted pull is not fetched again.
func (s *Service) fetchLayer(ctx context.Context, src *registry.Source, desc ocispec.Descriptor, parent, diffID digest.Digest, rep Reporter) error {
	id := shortID(desc.Digest)
	_, lerr := s.layers.Get(overlay.ChainID(parent, diffID))
	haveLayer, haveBlob := lerr == nil, s.content.Has(desc.Digest)
	switch {
	case haveLayer && haveBlob:
		rep.Status(id, "Already exists")
		return nil
	case haveBlob:
		rep.Status(id, "Download complete")
		if err := s.unpackStored(ctx, desc, parent, diffID, rep); err != nil {
			return err
		}
		rep.Status(id, "Pull complete")
		return nil
	}
	err := withRetries(ctx, func() error {
		return s.downloadLayer(ctx, src, desc, parent, diffID, !haveLayer, rep)
	}, func(secs int) {
		unit := "seconds"
		if secs == 1 {
			unit = "second"
		}
		rep.Status(id, fmt.Sprintf("Retrying in %d %s", secs, unit))
	})
	if err != nil {
		return fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	rep.Status(id, "Pull complete")
	return nil
}

// withRetries runs fn up to blobAttempts times while it fails transiently, waiting one second
// more before each new attempt; waiting hears how many seconds.
func withRetries(ctx context.Context, fn func() error, waiting func(secs int)) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == blobAttempts || ctx.Err() != nil || !transient(err) {
			return err
		}
		waiting(attempt)
		select {
		case <-time.After(time.Duration(attempt) * time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// transient tells a failure worth retrying (network, server trouble) from one that will recur.
func transient(err error) bool {
	switch errdefs.ClassOf(err) {
	case errdefs.InvalidArgument, errdefs.NotFound, errdefs.Unauthorized, errdefs.Forbidden:
		return false
	}
	return true
}

// downloadLayer streams blob desc into the content store and, when unpack is set, through the
// decompressor into the layer store at the same time, so the layer is ready when the download ends.
func (s *Service) downloadLayer(ctx context.Context, src *registry.Source, desc ocispec.Descriptor, parent, diffID digest.Digest, unpack bool, rep Reporter) error {
	id := shortID(desc.Digest)
	rc, err := src.Open(ctx, desc.Digest, desc.Size)
	if err != nil {
		return err
	}
	defer rc.Close()
	body := newProgressReader(rc, func(n int64) { rep.Layer(id, "Downloading", n, desc.Size) })
	if !unpack {
		if _, err := s.content.WriteVerified(body, desc.Digest); err != nil {
			return err
		}
		rep.Status(id, "Download complete")
		return nil
	}
	pipe := newBlockPipe()
	unpacked := make(chan error, 1)
	// An uncompressed layer's blob digest is its diff ID, and the pipe ends (EOF) only once the
	// download has passed its digest check and is stored: the unpack need not hash it again.
	verified := desc.Digest == diffID
	go func() {
		err := s.unpackStream(ctx, parent, diffID, pipe, verified)
		if err == nil {
			_, err = io.Copy(io.Discard, pipe) // trailing bytes after the compressed stream
		}
		// A writer still running hears of a failure that stopped the unpack first: bad content
		// (or a full disk), which fetching again would not cure, hence no retry.
		pipe.CloseRead(errdefs.As(errdefs.InvalidArgument, err))
		unpacked <- err
	}()
	_, werr := s.content.WriteVerified(io.TeeReader(body, pipe), desc.Digest)
	pipe.CloseWrite(werr)
	uerr := <-unpacked
	if werr != nil {
		// The download's own failure, or the unpack's, which the pipe handed to the writer.
		return werr
	}
	rep.Status(id, "Verifying Checksum")
	rep.Status(id, "Download complete")
	if uerr != nil {
		return uerr
	}
	rep.Layer(id, "Extracting", desc.Size, desc.Size)
	return nil
}

// unpackStored unpacks blob desc, already in the content store, on parent.
func (s *Service) unpackStored(ctx context.Context, desc ocispec.Descriptor, parent, diffID digest.Digest, rep Reporter) error {
	f, err := s.content.Open(desc.Digest)
	if err != nil {
		return err
	}
	defer f.Close()
	rep.Layer(shortID(desc.Digest), "Extracting", 0, desc.Size)
	if err := s.unpackStream(ctx, parent, diffID, f, false); err != nil {
		return err
	}
	rep.Layer(shortID(desc.Digest), "Extracting", desc.Size, desc.Size)
	return nil
}

// unpackStream decompresses r and unpacks it on parent. verified says that r checks diffID
// itself (see overlay.UnpackVerified), so it is not hashed here.
func (s *Service) unpackStream(ctx context.Context, parent, diffID digest.Digest, r io.Reader, verified bool) error {
	rc, err := archive.Decompress(r)
	if err != nil {
		return errdefs.InvalidArgumentf("layer %s: %v", diffID, err)
	}
	defer rc.Close()
	if verified {
		_, err = s.layers.UnpackVerified(ctx, parent, diffID, rc)
	} else {
		_, err = s.layers.Unpack(ctx, parent, diffID, rc)
	}
	return err
}

// rememberSources notes that repo (host/path) holds blobs, for cross-repository mounts.
func (s *Service) rememberSources(repo string, blobs []ocispec.Descriptor) {
	err := s.db.Update(func(tx *metadata.Tx) error {
		for _, b := range blobs {
			var repos []string
			if _, err := tx.Get(bucketBlobSources, b.Digest.String(), &repos); err != nil {
				return err
			}
			repos = append([]string{repo}, without(repos, repo)...)
			if len(repos) > maxBlobSources {
				repos = repos[:maxBlobSources]
			}
			if err := tx.Put(bucketBlobSources, b.Digest.String(), repos); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("remember blob sources", "repo", repo, "err", err)
	}
}

func without(list []string, v string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// progressReader reports the bytes read so far, at most every 100 ms and at the end.
type progressReader struct {
	r      io.Reader
	n      int64
	last   time.Time
	report func(int64)
}

func newProgressReader(r io.Reader, report func(int64)) *progressReader {
	return &progressReader{r: r, report: report}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || err == io.EOF {
		p.last = now
		p.report(p.n)
	}
	return n, err
}

// Distribution asks the registry about image without pulling it (GET /distribution/{name}/json):
// the descriptor of its manifest or index and its platforms.
func (s *Service) Distribution(ctx context.Context, image string, auth registry.AuthConfig) (apiregistry.DistributionInspect, error) {
	if s.registry == nil {
		return apiregistry.DistributionInspect{}, errdefs.NotImplementedf("registry access is not configured")
	}
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return apiregistry.DistributionInspect{}, errdefs.InvalidArgumentf("invalid reference format: %s", image)
	}
	if _, ok := named.(reference.Digested); !ok {
		named = reference.TagNameOnly(named)
	}
	desc, platforms, err := s.registry.Distribution(ctx, named, auth)
	if platforms == nil {
		platforms = []ocispec.Platform{}
	}
	return apiregistry.DistributionInspect{Descriptor: desc, Platforms: platforms}, err
}
