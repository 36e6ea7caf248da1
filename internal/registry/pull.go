package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/errdefs"
)

// downloadJobs bounds the blob downloads in flight for one pull.
const downloadJobs = 8

// Source is an image found at a registry: its manifest for the chosen platform and its config,
// with access to its blobs.
type Source struct {
	// Digest is what the reference resolved to: an index (manifest list) or the manifest itself.
	Digest         digest.Digest
	ManifestDigest digest.Digest
	MediaType      string
	RawManifest    []byte
	Manifest       ocispec.Manifest
	RawConfig      []byte

	puller *remote.Puller
	repo   name.Repository
}

// ParsePlatform parses os[/arch[/variant]]; an empty string means this host's platform.
func ParsePlatform(s string) (v1.Platform, error) {
	if s == "" {
		return v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, nil
	}
	p, err := v1.ParsePlatform(strings.ToLower(s))
	if err != nil || p.OS == "" {
		return v1.Platform{}, errdefs.InvalidArgumentf("invalid platform %q: want os[/arch[/variant]]", s)
	}
	if p.Architecture == "" {
		p.Architecture = runtime.GOARCH
	}
	return *p, nil
}

func (c *Client) puller(ep endpoint, auth AuthConfig) (*remote.Puller, error) {
	t, err := c.transport(ep)
	if err != nil {
		return nil, err
	}
	return remote.NewPuller(remote.WithAuth(auth.authenticator()), remote.WithTransport(t), remote.WithJobs(downloadJobs), remote.WithUserAgent("berth"))
}

// Resolve finds ref (tagged or digested) at its registry or one of its mirrors and selects the
// manifest for platform from an index. explicitPlatform makes a single-platform image that does
// not match an error, as docker does for --platform.
func (c *Client) Resolve(ctx context.Context, ref reference.Named, auth AuthConfig, platform v1.Platform, explicitPlatform bool) (*Source, error) {
	var lastErr error
	for _, ep := range c.endpoints(reference.Domain(ref)) {
		src, err := c.resolveAt(ctx, ep, ref, auth, platform, explicitPlatform)
		if err == nil {
			return src, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func (c *Client) resolveAt(ctx context.Context, ep endpoint, ref reference.Named, auth AuthConfig, platform v1.Platform, explicitPlatform bool) (*Source, error) {
	repo, err := ep.repository(reference.Path(ref))
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid reference %s: %v", ref, err)
	}
	p, err := c.puller(ep, auth)
	if err != nil {
		return nil, err
	}
	var nref name.Reference
	if d, ok := ref.(reference.Digested); ok {
		nref = repo.Digest(d.Digest().String())
	} else {
		nref = repo.Tag(reference.TagNameOnly(ref).(reference.Tagged).Tag())
	}
	desc, err := p.Get(ctx, nref)
	if err != nil {
		return nil, pullError(err, ref)
	}
	src := &Source{Digest: digest.Digest(desc.Digest.String()), puller: p, repo: repo}
	raw, mt := desc.Manifest, desc.MediaType
	if mt.IsIndex() {
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			return nil, fmt.Errorf("manifest list of %s: %w", reference.FamiliarString(ref), err)
		}
		child, ok := selectPlatform(idx, platform)
		if !ok {
			return nil, errdefs.NotFoundf("no matching manifest for %s in the manifest list entries", platform.String())
		}
		cd, err := p.Get(ctx, repo.Digest(child.String()))
		if err != nil {
			return nil, pullError(err, ref)
		}
		raw, mt = cd.Manifest, cd.MediaType
	}
	if mt.IsSchema1() {
		return nil, errdefs.InvalidArgumentf("%s uses Docker Image manifest version 2, schema 1, which is no longer supported; push it again with a current client", reference.FamiliarString(ref))
	}
	if !mt.IsImage() {
		return nil, errdefs.InvalidArgumentf("%s is not an image: its manifest has media type %q", reference.FamiliarString(ref), mt)
	}
	src.MediaType, src.RawManifest, src.ManifestDigest = string(mt), raw, digest.FromBytes(raw)
	if err := json.Unmarshal(raw, &src.Manifest); err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", reference.FamiliarString(ref), err)
	}
	if src.RawConfig, err = src.ReadBlob(ctx, src.Manifest.Config.Digest); err != nil {
		return nil, err
	}
	if explicitPlatform && !desc.MediaType.IsIndex() {
		var cfg ocispec.Platform
		_ = json.Unmarshal(src.RawConfig, &cfg)
		got := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
		if !got.Satisfies(platform) {
			return nil, errdefs.NotFoundf("image with reference %s was found but does not match the specified platform: wanted %s, actual: %s", reference.FamiliarString(ref), platform.String(), got.String())
		}
	}
	return src, nil
}

// selectPlatform picks the first manifest of idx for platform, skipping attestations.
func selectPlatform(idx ocispec.Index, want v1.Platform) (digest.Digest, bool) {
	for _, m := range idx.Manifests {
		if m.Platform == nil || m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue
		}
		got := v1.Platform{OS: m.Platform.OS, Architecture: m.Platform.Architecture, Variant: m.Platform.Variant, OSVersion: m.Platform.OSVersion}
		if got.Satisfies(want) {
			return m.Digest, true
		}
	}
	return "", false
}

// pullError words a failed manifest fetch as docker does.
func pullError(err error, ref reference.Named) error {
	switch StatusCode(err) {
	case http.StatusNotFound:
		return errdefs.NotFoundf("manifest for %s not found: %s", reference.FamiliarString(ref), Describe(err))
	case http.StatusUnauthorized, http.StatusForbidden:
		// Not found, as docker classes it: a 401 would make clients prompt for a login.
		return errdefs.NotFoundf("pull access denied for %s, repository does not exist or may require 'docker login': %s", reference.FamiliarName(ref), Describe(err))
	}
	return classify(err, "pull "+reference.FamiliarString(ref))
}

// Open streams blob d; reading it to the end verifies its digest.
func (s *Source) Open(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
	l, err := s.puller.Layer(ctx, s.repo.Digest(d.String()))
	if err != nil {
		return nil, classify(err, "fetch blob "+d.String())
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, classify(err, "fetch blob "+d.String())
	}
	return blobReader{rc, d}, nil
}

// blobReader words go-containerregistry's failed check at the end of a blob as docker does, and
// as an invalid argument, so the download is not retried (docker does not retry one either).
// Other read errors, such as a cut connection, pass as they are.
type blobReader struct {
	io.ReadCloser
	d digest.Digest
}

func (b blobReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	// The check's error type is internal to go-containerregistry; its messages start so.
	if err != nil && err != io.EOF && strings.HasPrefix(err.Error(), "error verifying") {
		err = errdefs.InvalidArgumentf("filesystem layer verification failed for digest %s: %v", b.d, err)
	}
	return n, err
}

// ReadBlob returns the whole blob d, for configs and other small blobs.
func (s *Source) ReadBlob(ctx context.Context, d digest.Digest) ([]byte, error) {
	rc, err := s.Open(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, classify(err, "fetch blob "+d.String())
	}
	return b, nil
}

// Tags lists the tags of repo at its registry (mirrors are not asked).
func (c *Client) Tags(ctx context.Context, repo reference.Named, auth AuthConfig) ([]string, error) {
	ep := c.registryEndpoint(reference.Domain(repo))
	r, err := ep.repository(reference.Path(repo))
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid repository %s: %v", repo, err)
	}
	p, err := c.puller(ep, auth)
	if err != nil {
		return nil, err
	}
	tags, err := p.List(ctx, r)
	if err != nil {
		return nil, classify(err, "list tags of "+reference.FamiliarName(repo))
	}
	return tags, nil
}
