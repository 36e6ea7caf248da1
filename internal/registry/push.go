package registry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/errdefs"
)

// Push is a push session to one repository: one authentication, many blobs, then manifests.
type Push struct {
	repo   name.Repository
	pusher *remote.Pusher
	http   *http.Client
}

// NewPush authenticates to repo's registry for pushing.
func (c *Client) NewPush(ctx context.Context, repo reference.Named, auth AuthConfig) (*Push, error) {
	ep := c.registryEndpoint(reference.Domain(repo))
	r, err := ep.repository(reference.Path(repo))
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid repository %s: %v", repo, err)
	}
	base, err := c.transport(ep)
	if err != nil {
		return nil, err
	}
	a := auth.authenticator()
	rt, err := transport.NewWithContext(ctx, r.Registry, a, base, []string{r.Scope(transport.PushScope)})
	if err != nil {
		return nil, classify(err, "push to "+reference.FamiliarName(repo))
	}
	pusher, err := remote.NewPusher(remote.WithAuth(a), remote.WithTransport(base), remote.WithUserAgent("berth"))
	if err != nil {
		return nil, err
	}
	return &Push{repo: r, pusher: pusher, http: &http.Client{Transport: rt}}, nil
}

// Exists reports whether the repository already has blob d.
func (p *Push) Exists(ctx context.Context, d digest.Digest) (bool, error) {
	u := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", p.repo.Scheme(), p.repo.RegistryStr(), p.repo.RepositoryStr(), d)
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return false, fmt.Errorf("check blob %s: %w", d, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, classify(transport.CheckError(resp, http.StatusOK), "check blob "+d.String())
}

// Blob is a local blob to push.
type Blob struct {
	Descriptor ocispec.Descriptor
	// Open returns the blob's content; it is called only when the blob has to be uploaded.
	Open func() (io.ReadCloser, error)
	// MountFrom is another repository of the same registry known to hold the blob, or "".
	MountFrom string
}

// Upload sends b unless the registry can mount it from b.MountFrom; it reports whether it was mounted.
func (p *Push) Upload(ctx context.Context, b Blob) (mounted bool, err error) {
	l := &blobLayer{b: b}
	var layer v1.Layer = l
	if b.MountFrom != "" {
		if src, err := name.NewRepository(p.repo.RegistryStr()+"/"+b.MountFrom, name.WeakValidation); err == nil {
			layer = &remote.MountableLayer{Layer: l, Reference: src.Digest(b.Descriptor.Digest.String())}
		}
	}
	if err := p.pusher.Upload(ctx, p.repo, layer); err != nil {
		return false, classify(err, "upload blob "+b.Descriptor.Digest.String())
	}
	return b.MountFrom != "" && !l.opened.Load(), nil
}

// PutManifest stores raw (of mediaType) under tag, or by digest when tag is "".
func (p *Push) PutManifest(ctx context.Context, tag, mediaType string, raw []byte) error {
	var ref name.Reference = p.repo.Tag(tag)
	if tag == "" {
		ref = p.repo.Digest(digest.FromBytes(raw).String())
	}
	if err := p.pusher.Push(ctx, ref, rawManifest{raw: raw, mediaType: types.MediaType(mediaType)}); err != nil {
		return classify(err, "push manifest for "+ref.String())
	}
	return nil
}

type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// blobLayer presents a local blob as the v1.Layer go-containerregistry uploads; only the
// compressed side is ever used by an upload.
type blobLayer struct {
	b      Blob
	opened atomic.Bool
}

func (l *blobLayer) Digest() (v1.Hash, error) { return v1.NewHash(l.b.Descriptor.Digest.String()) }
func (l *blobLayer) DiffID() (v1.Hash, error) { return l.Digest() }
func (l *blobLayer) Size() (int64, error)     { return l.b.Descriptor.Size, nil }
func (l *blobLayer) MediaType() (types.MediaType, error) {
	return types.MediaType(l.b.Descriptor.MediaType), nil
}
func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	l.opened.Store(true)
	return l.b.Open()
}
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }
