package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"sort"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Save writes the images names refer to as one tar in docker's current save format: an OCI image
// layout (index.json, blobs) plus manifest.json and repositories for older loaders.
// A name without tag means every tag of that repository, as in docker.
func (s *Service) Save(ctx context.Context, names []string, w io.Writer) error {
	snap, err := s.view()
	if err != nil {
		return err
	}
	type entry struct {
		img  *Image
		refs []string
	}
	var order []digest.Digest
	entries := map[digest.Digest]*entry{}
	add := func(img *Image, ref string) {
		e, ok := entries[img.ID]
		if !ok {
			e = &entry{img: img}
			entries[img.ID] = e
			order = append(order, img.ID)
		}
		if ref != "" {
			for _, r := range e.refs {
				if r == ref {
					return
				}
			}
			e.refs = append(e.refs, ref)
		}
	}
	for _, name := range names {
		if nameOnly(name) {
			repo := familiarName(name)
			matched := false
			for ref, rr := range snap.refs {
				if familiarName(ref) == repo && snap.images[rr.ID] != nil {
					add(snap.images[rr.ID], ref)
					matched = true
				}
			}
			if matched {
				continue
			}
		}
		img, ref, err := snap.resolve(name)
		if err != nil {
			return err
		}
		add(img, ref)
	}

	// Hold off GC while blobs stream out.
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	tw := tar.NewWriter(w)
	mtime := time.Unix(0, 0)
	written := map[digest.Digest]bool{}
	writeBlob := func(d digest.Digest) error {
		if written[d] {
			return nil
		}
		written[d] = true
		f, err := s.content.Open(d)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/" + d.Encoded(), Mode: 0o444, Size: st.Size(), ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		return copyN(tw, f, st.Size())
	}
	writeFile := func(name string, v any) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o444, Size: int64(len(raw)), ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(raw)
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "blobs/", Mode: 0o755, ModTime: mtime, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/", Mode: 0o755, ModTime: mtime, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	index := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	index.SchemaVersion = 2
	manifests := []saveManifestEntry{}
	repositories := map[string]map[string]string{}
	for _, id := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := entries[id]
		sort.Strings(e.refs)
		m := saveManifestEntry{Config: "blobs/sha256/" + id.Encoded(), RepoTags: []string{}}
		for _, l := range e.img.Manifest.Layers {
			if err := writeBlob(l.Digest); err != nil {
				return err
			}
			m.Layers = append(m.Layers, "blobs/sha256/"+l.Digest.Encoded())
		}
		if err := writeBlob(id); err != nil {
			return err
		}
		if err := writeBlob(e.img.ManifestDigest); err != nil {
			return err
		}
		size, err := s.content.Size(e.img.ManifestDigest)
		if err != nil {
			return err
		}
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: e.img.ManifestDigest, Size: size}
		if len(e.refs) == 0 {
			index.Manifests = append(index.Manifests, desc)
		}
		for _, ref := range e.refs {
			fam := familiar(ref)
			m.RepoTags = append(m.RepoTags, fam)
			d := desc
			d.Annotations = map[string]string{annotationImageName: ref, ocispec.AnnotationRefName: refTag(ref)}
			index.Manifests = append(index.Manifests, d)
			repo := familiarName(ref)
			if repositories[repo] == nil {
				repositories[repo] = map[string]string{}
			}
			repositories[repo][refTag(ref)] = id.Encoded()
		}
		manifests = append(manifests, m)
	}
	if err := writeFile("index.json", index); err != nil {
		return err
	}
	if err := writeFile("manifest.json", manifests); err != nil {
		return err
	}
	if err := writeFile("oci-layout", ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion}); err != nil {
		return err
	}
	if len(repositories) > 0 {
		if err := writeFile("repositories", repositories); err != nil {
			return err
		}
	}
	return tw.Close()
}
