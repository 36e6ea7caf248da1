package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
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

	client *http.Client  // authenticated for pulls from repo
	jobs   chan struct{} // blob downloads in flight, at most downloadJobs
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
	return fromEndpoints(ctx, c, ref, func(ep endpoint) (*Source, error) {
		return c.resolveAt(ctx, ep, ref, auth, platform, explicitPlatform)
	})
}

// fromEndpoints asks ref's mirrors, then its registry (see endpoints), until one answers; the
// last failure is the error.
func fromEndpoints[T any](ctx context.Context, c *Client, ref reference.Named, at func(endpoint) (T, error)) (T, error) {
	var zero T
	var lastErr error
	for _, ep := range c.endpoints(reference.Domain(ref)) {
		v, err := at(ep)
		if err == nil {
			return v, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return zero, lastErr
}

func (c *Client) resolveAt(ctx context.Context, ep endpoint, ref reference.Named, auth AuthConfig, platform v1.Platform, explicitPlatform bool) (*Source, error) {
	repo, err := ep.repository(reference.Path(ref))
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid reference %s: %v", ref, err)
	}
	authed, p, err := c.session(ctx, ep, repo, auth, ref)
	if err != nil {
		return nil, err
	}
	desc, err := p.Get(ctx, nameRef(repo, ref))
	if err != nil {
		return nil, pullError(err, ref)
	}
	src := &Source{Digest: digest.Digest(desc.Digest.String()), client: &http.Client{Transport: authed}, jobs: make(chan struct{}, downloadJobs), repo: repo}
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

// imageEntries are the manifests of idx that are images for a platform (not attestations).
func imageEntries(idx ocispec.Index) []ocispec.Descriptor {
	var out []ocispec.Descriptor
	for _, m := range idx.Manifests {
		if m.Platform != nil && m.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			out = append(out, m)
		}
	}
	return out
}

// selectPlatform picks the first image of idx for platform.
func selectPlatform(idx ocispec.Index, want v1.Platform) (digest.Digest, bool) {
	for _, m := range imageEntries(idx) {
		got := v1.Platform{OS: m.Platform.OS, Architecture: m.Platform.Architecture, Variant: m.Platform.Variant, OSVersion: m.Platform.OSVersion}
		if got.Satisfies(want) {
			return m.Digest, true
		}
	}
	return "", false
}

// session is one authentication handshake for pulls from repo: its transport serves the
// manifests (go-containerregistry takes a transport.Wrapper as it is) and the blobs, which are
// fetched here to resume them.
func (c *Client) session(ctx context.Context, ep endpoint, repo name.Repository, auth AuthConfig, ref reference.Named) (http.RoundTripper, *remote.Puller, error) {
	base, err := c.transport(ep)
	if err != nil {
		return nil, nil, err
	}
	authed, err := transport.NewWithContext(ctx, repo.Registry, auth.authenticator(),
		transport.NewUserAgent(transport.NewRetry(base), "berth"), []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, nil, pullError(err, ref)
	}
	p, err := remote.NewPuller(remote.WithTransport(authed))
	return authed, p, err
}

// nameRef is ref (tagged or digested) in repo, as go-containerregistry names it.
func nameRef(repo name.Repository, ref reference.Named) name.Reference {
	if d, ok := ref.(reference.Digested); ok {
		return repo.Digest(d.Digest().String())
	}
	return repo.Tag(reference.TagNameOnly(ref).(reference.Tagged).Tag())
}

// Distribution is what the registry (or a mirror) says about ref without pulling it: the
// descriptor of its manifest or index and the platforms it is built for.
func (c *Client) Distribution(ctx context.Context, ref reference.Named, auth AuthConfig) (ocispec.Descriptor, []ocispec.Platform, error) {
	d, err := fromEndpoints(ctx, c, ref, func(ep endpoint) (distribution, error) {
		return c.distributionAt(ctx, ep, ref, auth)
	})
	return d.desc, d.platforms, err
}

type distribution struct {
	desc      ocispec.Descriptor
	platforms []ocispec.Platform
}

func (c *Client) distributionAt(ctx context.Context, ep endpoint, ref reference.Named, auth AuthConfig) (distribution, error) {
	repo, err := ep.repository(reference.Path(ref))
	if err != nil {
		return distribution{}, errdefs.InvalidArgumentf("invalid reference %s: %v", ref, err)
	}
	_, p, err := c.session(ctx, ep, repo, auth, ref)
	if err != nil {
		return distribution{}, err
	}
	rd, err := p.Get(ctx, nameRef(repo, ref))
	if err != nil {
		return distribution{}, pullError(err, ref)
	}
	d := distribution{desc: ocispec.Descriptor{MediaType: string(rd.MediaType), Digest: digest.Digest(rd.Digest.String()), Size: rd.Size}}
	if rd.MediaType.IsIndex() {
		var idx ocispec.Index
		if err := json.Unmarshal(rd.Manifest, &idx); err != nil {
			return distribution{}, fmt.Errorf("manifest list of %s: %w", reference.FamiliarString(ref), err)
		}
		for _, m := range imageEntries(idx) {
			d.platforms = append(d.platforms, *m.Platform)
		}
		return d, nil
	}
	img, err := rd.Image()
	if err != nil {
		return distribution{}, pullError(err, ref)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return distribution{}, classify(err, "fetch the config of "+reference.FamiliarString(ref))
	}
	d.platforms = []ocispec.Platform{{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}}
	return d, nil
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

// blobResumes bounds how often one download of a blob picks up where its connection broke (a
// Range request for the rest), as docker's does, before the pull starts the blob again.
const blobResumes = 3

// Open streams blob d of size bytes (-1: not known); reading it to the end verifies its digest and
// size. A connection that breaks mid-blob is resumed where it stopped.
func (s *Source) Open(ctx context.Context, d digest.Digest, size int64) (io.ReadCloser, error) {
	if err := d.Validate(); err != nil {
		return nil, errdefs.InvalidArgumentf("blob %s: %v", d, err)
	}
	select {
	case s.jobs <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	b := &blobReader{ctx: ctx, src: s, d: d, size: size, dg: d.Algorithm().Digester()}
	if err := b.open(); err != nil {
		<-s.jobs
		return nil, err
	}
	return b, nil
}

// blobReader is one blob's download: it hashes what passes, resumes after a broken connection
// and checks the digest at the end, worded as docker's check ("filesystem layer verification
// failed"), as an invalid argument so that the pull does not retry it (docker does not either).
type blobReader struct {
	ctx     context.Context
	src     *Source
	d       digest.Digest
	size    int64
	dg      digest.Digester
	body    io.ReadCloser
	off     int64 // bytes delivered so far
	resumes int
	done    bool
}

func (b *blobReader) open() error {
	u := url.URL{Scheme: b.src.repo.Registry.Scheme(), Host: b.src.repo.RegistryStr(), Path: "/v2/" + b.src.repo.RepositoryStr() + "/blobs/" + b.d.String()}
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	if b.off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(b.off, 10)+"-")
	}
	resp, err := b.src.client.Do(req)
	if err != nil {
		return classify(err, "fetch blob "+b.d.String())
	}
	switch {
	case b.off > 0 && resp.StatusCode == http.StatusPartialContent:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(b.off, 10)+"-") {
			resp.Body.Close()
			return fmt.Errorf("fetch blob %s: the registry resumed at %q, not at byte %d", b.d, resp.Header.Get("Content-Range"), b.off)
		}
	case b.off > 0 && resp.StatusCode == http.StatusOK:
		// The registry ignored the range: skip what has been delivered already.
		if _, err := io.CopyN(io.Discard, resp.Body, b.off); err != nil {
			resp.Body.Close()
			return fmt.Errorf("fetch blob %s: %w", b.d, err)
		}
	default:
		if err := transport.CheckError(resp, http.StatusOK); err != nil {
			resp.Body.Close()
			return classify(err, "fetch blob "+b.d.String())
		}
	}
	b.body = resp.Body
	return nil
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	for {
		if b.body == nil {
			if err := b.open(); err != nil {
				return 0, err
			}
		}
		n, err := b.body.Read(p)
		b.dg.Hash().Write(p[:n])
		b.off += int64(n)
		if b.size >= 0 && b.off > b.size {
			return n, b.fail(fmt.Errorf("more than the %d bytes of its descriptor", b.size))
		}
		switch {
		case err == io.EOF:
			b.done = true
			if b.size >= 0 && b.off != b.size {
				return n, b.fail(fmt.Errorf("%d bytes, not the %d of its descriptor", b.off, b.size))
			}
			if got := b.dg.Digest(); got != b.d {
				return n, b.fail(fmt.Errorf("content hashes to %s", got))
			}
			return n, io.EOF
		case err != nil && b.resumes < blobResumes && b.ctx.Err() == nil:
			b.body.Close()
			b.body = nil
			b.resumes++
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (b *blobReader) fail(why error) error {
	return errdefs.InvalidArgumentf("filesystem layer verification failed for digest %s: %v", b.d, why)
}

func (b *blobReader) Close() error {
	var err error
	if b.body != nil {
		err = b.body.Close()
		b.body = nil
	}
	if b.src != nil {
		<-b.src.jobs
		b.src = nil
	}
	return err
}

// ReadBlob returns the whole blob d, for configs and other small blobs.
func (s *Source) ReadBlob(ctx context.Context, d digest.Digest) ([]byte, error) {
	rc, err := s.Open(ctx, d, -1)
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
