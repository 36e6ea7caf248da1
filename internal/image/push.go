package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/metadata"
	"github.com/berth-project/berth/internal/registry"
)

// PushResult is the aux message docker clients read after a push.
type PushResult struct {
	Tag    string
	Digest string
	Size   int
}

// Push sends image to its registry: name:tag, or every local tag of a bare name. Blobs the
// repository has are skipped, blobs another repository of the registry has are mounted, the rest
// are uploaded in parallel, then each manifest is put as stored, so its digest is the one pulls get.
func (s *Service) Push(ctx context.Context, image string, auth registry.AuthConfig, rep Reporter) error {
	if s.registry == nil {
		return errdefs.NotImplementedf("registry access is not configured")
	}
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return errdefs.InvalidArgumentf("invalid reference format: %s", image)
	}
	if _, ok := named.(reference.Digested); ok {
		return errdefs.InvalidArgumentf("cannot push a digest reference: %s", image)
	}
	snap, err := s.view()
	if err != nil {
		return err
	}
	var refs []string
	if reference.IsNameOnly(named) {
		for ref := range snap.refs {
			if r, err := reference.ParseNormalizedNamed(ref); err == nil && r.Name() == named.Name() && !strings.Contains(ref, "@") {
				refs = append(refs, ref)
			}
		}
		sort.Strings(refs)
	} else if _, ok := snap.refs[named.String()]; ok {
		refs = []string{named.String()}
	}
	if len(refs) == 0 {
		return errdefs.NotFoundf("An image does not exist locally with the tag: %s", reference.FamiliarName(named))
	}
	repo := reference.TrimNamed(named)
	rep.Status("", "The push refers to repository ["+repo.String()+"]")
	sess, err := s.registry.NewPush(ctx, repo, auth)
	if err != nil {
		return err
	}
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	for _, ref := range refs {
		img := snap.images[snap.refs[ref].ID]
		if img == nil {
			continue
		}
		if err := s.pushOne(ctx, sess, repo, refTag(ref), img, rep); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) pushOne(ctx context.Context, sess *registry.Push, repo reference.Named, tag string, img *Image, rep Reporter) error {
	raw, err := s.content.ReadAll(img.ManifestDigest)
	if err != nil {
		return err
	}
	mediaType := img.Manifest.MediaType
	if mediaType == "" {
		mediaType = ocispec.MediaTypeImageManifest
	}
	repoPath := reference.Domain(repo) + "/" + reference.Path(repo)
	layers := img.Manifest.Layers
	ids := make([]string, len(layers))
	for i, l := range layers {
		ids[i] = shortID(l.Digest)
		if i < len(img.Config.RootFS.DiffIDs) {
			ids[i] = shortID(img.Config.RootFS.DiffIDs[i])
		}
		rep.Status(ids[i], "Preparing")
	}
	sources := s.blobSources(layers)
	var wg sync.WaitGroup
	errs := make([]error, len(layers)+1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, l := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = s.pushBlob(ctx, sess, l, ids[i], mountSource(sources[l.Digest], repoPath), rep); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[len(layers)] = s.pushBlob(ctx, sess, img.Manifest.Config, "", "", nil)
	}()
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := sess.PutManifest(ctx, tag, mediaType, raw); err != nil {
		return err
	}
	digested, err := reference.WithDigest(repo, img.ManifestDigest)
	if err != nil {
		return err
	}
	rec, _, err := s.record(img.ID)
	if err != nil {
		return err
	}
	if err := s.commit(rec, []string{digested.String()}, nil); err != nil {
		return err
	}
	s.rememberSources(repoPath, layers)
	rep.Status("", fmt.Sprintf("%s: digest: %s size: %d", tag, img.ManifestDigest, len(raw)))
	rep.Aux(PushResult{Tag: tag, Digest: img.ManifestDigest.String(), Size: len(raw)})
	return nil
}

// pushBlob uploads desc unless the repository has it; rep, when not nil, hears about it as layer id.
func (s *Service) pushBlob(ctx context.Context, sess *registry.Push, desc ocispec.Descriptor, id, mountFrom string, rep Reporter) error {
	exists, err := sess.Exists(ctx, desc.Digest)
	if err != nil {
		return err
	}
	if exists {
		if rep != nil {
			rep.Status(id, "Layer already exists")
		}
		return nil
	}
	blob := registry.Blob{Descriptor: desc, MountFrom: mountFrom, Open: func() (io.ReadCloser, error) {
		f, err := s.content.Open(desc.Digest)
		if err != nil || rep == nil {
			return f, err
		}
		return readCloser{newProgressReader(f, func(n int64) { rep.Layer(id, "Pushing", n, desc.Size) }), f}, nil
	}}
	var mounted bool
	if err := withRetries(ctx, func() (err error) {
		mounted, err = sess.Upload(ctx, blob)
		return err
	}, func(int) {}); err != nil {
		return err
	}
	if rep != nil {
		if mounted {
			rep.Status(id, "Mounted from "+familiarPath(mountFrom))
		} else {
			rep.Status(id, "Pushed")
		}
	}
	return nil
}

// blobSources returns the remembered repositories of each blob.
func (s *Service) blobSources(blobs []ocispec.Descriptor) map[digest.Digest][]string {
	out := map[digest.Digest][]string{}
	_ = s.db.View(func(tx *metadata.Tx) error {
		for _, b := range blobs {
			var repos []string
			if ok, err := tx.Get(bucketBlobSources, b.Digest.String(), &repos); err == nil && ok {
				out[b.Digest] = repos
			}
		}
		return nil
	})
	return out
}

// mountSource picks a repository on target's registry, other than target, from sources; it returns
// the repository's path ("" when there is none).
func mountSource(sources []string, target string) string {
	host, _, _ := strings.Cut(target, "/")
	for _, src := range sources {
		h, path, _ := strings.Cut(src, "/")
		if h == host && src != target {
			return path
		}
	}
	return ""
}

// familiarPath shows a Docker Hub path as docker does ("busybox" for library/busybox).
func familiarPath(path string) string { return strings.TrimPrefix(path, "library/") }

type readCloser struct {
	io.Reader
	io.Closer
}
