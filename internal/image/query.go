package image

import (
	"context"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/storage"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
)

// List returns the images matching the dangling, reference, label, before, since and until filters,
// newest first, as GET /images/json reports them.
func (s *Service) List(ctx context.Context, f filters.Args) ([]image.Summary, error) {
	if err := f.Validate("dangling", "reference", "label", "label!", "before", "since", "until"); err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	snap, err := s.view()
	if err != nil {
		return nil, err
	}
	match, err := snap.matcher(f)
	if err != nil {
		return nil, err
	}
	shared := snap.layerUse()
	out := []image.Summary{}
	for _, img := range snap.sorted() {
		if !match(img) {
			continue
		}
		sum := summary(img, snap.sharedSize(img, shared))
		if patterns := f.Get("reference"); len(patterns) > 0 {
			// Like docker, show only the names the reference filter matched.
			sum.RepoTags = sum.RepoTags[:0]
			for _, r := range img.Refs {
				if refMatches(r, patterns) {
					sum.RepoTags = append(sum.RepoTags, familiar(r))
				}
			}
		}
		out = append(out, sum)
	}
	return out, nil
}

func summary(img *Image, shared int64) image.Summary {
	sum := image.Summary{
		ID:          img.ID.String(),
		Created:     img.Created().Unix(),
		Labels:      img.Labels(),
		RepoTags:    []string{},
		RepoDigests: []string{},
		Size:        img.Size,
		SharedSize:  shared,
		Containers:  -1,
	}
	if sum.Labels == nil {
		sum.Labels = map[string]string{}
	}
	for _, r := range img.Refs {
		sum.RepoTags = append(sum.RepoTags, familiar(r))
	}
	for _, r := range img.Digests {
		sum.RepoDigests = append(sum.RepoDigests, familiar(r))
	}
	return sum
}

// sorted returns the images newest first, then by ID for a stable order.
func (snap *snapshot) sorted() []*Image {
	imgs := make([]*Image, 0, len(snap.images))
	for _, img := range snap.images {
		if img.Hidden {
			continue // build cache, not an image users see
		}
		imgs = append(imgs, img)
	}
	sort.Slice(imgs, func(i, j int) bool {
		ci, cj := imgs[i].Created(), imgs[j].Created()
		if !ci.Equal(cj) {
			return ci.After(cj)
		}
		return imgs[i].ID < imgs[j].ID
	})
	return imgs
}

// layerUse counts how many images use each layer.
func (snap *snapshot) layerUse() map[digest.Digest]int {
	use := map[digest.Digest]int{}
	for _, img := range snap.images {
		for _, c := range img.Chain {
			use[c]++
		}
	}
	return use
}

// sharedSize is the size of img's layers that other images use too.
func (snap *snapshot) sharedSize(img *Image, use map[digest.Digest]int) int64 {
	var n int64
	for i, c := range img.Chain {
		if use[c] > 1 {
			n += layerSize(img, i)
		}
	}
	return n
}

func (snap *snapshot) matcher(f filters.Args) (func(*Image) bool, error) {
	var dangling *bool
	if f.Has("dangling") {
		v := f.Get("dangling")
		if len(v) != 1 || (v[0] != "true" && v[0] != "false" && v[0] != "1" && v[0] != "0") {
			return nil, errdefs.InvalidArgumentf("invalid filter 'dangling=%s'", strings.Join(v, ","))
		}
		d := v[0] == "true" || v[0] == "1"
		dangling = &d
	}
	var before, since time.Time
	for key, t := range map[string]*time.Time{"before": &before, "since": &since} {
		for _, name := range f.Get(key) {
			img, _, err := snap.resolve(name)
			if err != nil {
				return nil, err
			}
			*t = img.Created()
		}
	}
	var until time.Time
	for _, u := range f.Get("until") {
		t, err := filters.ParseTimestamp(u, time.Now())
		if err != nil {
			return nil, errdefs.As(errdefs.InvalidArgument, err)
		}
		until = t
	}
	patterns := f.Get("reference")
	return func(img *Image) bool {
		if dangling != nil && *dangling != (len(img.Refs) == 0) {
			return false
		}
		if !before.IsZero() && !img.Created().Before(before) {
			return false
		}
		if !since.IsZero() && !img.Created().After(since) {
			return false
		}
		if !until.IsZero() && !img.Created().Before(until) {
			return false
		}
		if !f.MatchLabels("label", img.Labels()) {
			return false
		}
		if len(patterns) > 0 && !matchesReference(img, patterns) {
			return false
		}
		return true
	}, nil
}

// matchesReference applies docker's reference filter: a glob on the familiar name, with or without tag.
func matchesReference(img *Image, patterns []string) bool {
	for _, ref := range img.Refs {
		if refMatches(ref, patterns) {
			return true
		}
	}
	return false
}

func refMatches(ref string, patterns []string) bool {
	fam, name := familiar(ref), familiarName(ref)
	for _, p := range patterns {
		if ok, _ := path.Match(p, fam); ok {
			return true
		}
		if ok, _ := path.Match(p, name); ok {
			return true
		}
		if named, err := reference.ParseNormalizedNamed(p); err == nil && named.String() == ref {
			return true
		}
	}
	return false
}

func layerSize(img *Image, i int) int64 {
	if i < len(img.layerSizes) {
		return img.layerSizes[i]
	}
	return 0
}

// Inspect returns docker's inspect view of the image name refers to.
func (s *Service) Inspect(ctx context.Context, name string) (*image.InspectResponse, error) {
	img, err := s.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	resp := &image.InspectResponse{
		ID:           img.ID.String(),
		RepoTags:     []string{},
		RepoDigests:  []string{},
		Comment:      img.Config.Comment,
		Author:       img.Config.Author,
		Config:       &img.Config.Config,
		Architecture: img.Config.Architecture,
		Variant:      img.Config.Variant,
		Os:           img.Config.OS,
		OsVersion:    img.Config.OSVersion,
		Size:         img.Size,
		RootFS:       image.RootFS{Type: "layers"},
		Metadata:     image.Metadata{LastTagTime: img.Added},
	}
	if c := img.Created(); !c.IsZero() {
		resp.Created = c.Format(time.RFC3339Nano)
	}
	for _, r := range img.Refs {
		resp.RepoTags = append(resp.RepoTags, familiar(r))
	}
	for _, r := range img.Digests {
		resp.RepoDigests = append(resp.RepoDigests, familiar(r))
	}
	for _, d := range img.Config.RootFS.DiffIDs {
		resp.RootFS.Layers = append(resp.RootFS.Layers, d.String())
	}
	if n := len(img.Chain); n > 0 {
		data := map[string]string{"UpperDir": s.layers.DiffDir(img.Chain[n-1])}
		if n > 1 {
			data["LowerDir"] = s.layers.LowerDirs(img.Chain[:n-1])
		}
		resp.GraphDriver = &storage.DriverData{Name: "overlay2", Data: data}
	}
	return resp, nil
}

// History returns the image's build history, newest first, with layer sizes, as docker history shows it.
func (s *Service) History(ctx context.Context, name string) ([]image.HistoryResponseItem, error) {
	img, err := s.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	items := []image.HistoryResponseItem{}
	layer := 0
	for _, h := range img.Config.History {
		item := image.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: []string{}}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if !h.EmptyLayer {
			item.Size = layerSize(img, layer)
			layer++
		}
		items = append(items, item)
	}
	if len(items) == 0 {
		items = append(items, image.HistoryResponseItem{Created: img.Created().Unix(), Size: img.Size, Tags: []string{}})
	}
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	items[0].ID = img.ID.String()
	for _, r := range img.Refs {
		items[0].Tags = append(items[0].Tags, familiar(r))
	}
	return items, nil
}

// DiskUsage returns the images with their shared sizes and the total size of all layers.
func (s *Service) DiskUsage(ctx context.Context) ([]image.Summary, int64, error) {
	snap, err := s.view()
	if err != nil {
		return nil, 0, err
	}
	use := snap.layerUse()
	var total int64
	counted := map[digest.Digest]bool{}
	out := []image.Summary{}
	for _, img := range snap.sorted() {
		for i, c := range img.Chain {
			if !counted[c] {
				counted[c] = true
				total += layerSize(img, i)
			}
		}
		sum := summary(img, snap.sharedSize(img, use))
		sum.Containers = 0
		out = append(out, sum)
	}
	return out, total, nil
}
