package image

import (
	"context"
	"strings"

	"github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/metadata"
)

// Remove untags or deletes what name refers to, following docker's rules: a name is untagged and the
// image deleted once no name is left; an ID deletes the image, which needs force when names in several
// repositories point at it.
func (s *Service) Remove(ctx context.Context, name string, force bool) ([]image.DeleteResponse, error) {
	// The containers using the image are looked up before the write transaction, never in it:
	// the container service takes container locks, whose holders may wait for the metadata
	// store (through the volume service), so asking from inside the transaction can deadlock.
	pre, err := s.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	user, running, inUse := s.userOf(pre.ID)
	s.mu.Lock()
	var out []image.DeleteResponse
	var deleted bool
	err = s.db.Update(func(tx *metadata.Tx) error {
		snap, err := s.snapshot(tx)
		if err != nil {
			return err
		}
		img, ref, err := snap.resolve(name)
		if err != nil {
			return err
		}
		if img.ID != pre.ID {
			return errdefs.Conflictf("conflict: %s was retagged while being removed; try again", name)
		}
		byID := ref == "" || strings.Contains(ref, "@")
		if inUse && byID {
			if running {
				return errdefs.Conflictf("conflict: unable to delete %s (cannot be forced) - image is being used by running container %s", shortID(img.ID), user[:12])
			}
			if !force {
				return errdefs.Conflictf("conflict: unable to delete %s (must be forced) - image is being used by stopped container %s", shortID(img.ID), user[:12])
			}
		}
		if inUse && !byID && !force && len(img.Refs)+len(img.Digests) == 1 {
			return errdefs.Conflictf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s", name, user[:12], shortID(img.ID))
		}
		untag := []string{ref}
		if !byID {
			untag = append(untag, orphanedDigests(img, ref)...)
		}
		if byID {
			untag = append(img.Refs, img.Digests...)
			if !force && len(img.Refs) > 0 && !singleRepository(img.Refs) {
				return errdefs.Conflictf("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", shortID(img.ID))
			}
		}
		left := len(img.Refs) + len(img.Digests)
		for _, r := range untag {
			if err := tx.Delete(bucketRefs, r); err != nil {
				return err
			}
			out = append(out, image.DeleteResponse{Untagged: familiar(r)})
			left--
		}
		if left > 0 || inUse {
			return nil // a container still needs the image: it stays, untagged
		}
		deleted = true
		out = append(out, image.DeleteResponse{Deleted: img.ID.String()})
		return tx.Delete(bucketImages, img.ID.String())
	})
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if deleted {
		if _, err := s.GC(ctx); err != nil {
			return out, err
		}
	}
	return out, nil
}

func singleRepository(refs []string) bool {
	for _, r := range refs[1:] {
		if familiarName(r) != familiarName(refs[0]) {
			return false
		}
	}
	return true
}

// Prune deletes dangling images, or with all every image, that match the until and label filters.
func (s *Service) Prune(ctx context.Context, f filters.Args) (*image.PruneReport, error) {
	if err := f.Validate("dangling", "until", "label", "label!"); err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	all := false
	for _, v := range f.Get("dangling") {
		switch v {
		case "false", "0":
			all = true
		case "true", "1":
		default:
			return nil, errdefs.InvalidArgumentf("invalid filter 'dangling=%s'", v)
		}
	}
	rest := filters.Args{}
	for k, v := range f {
		if k != "dangling" {
			rest[k] = v
		}
	}
	snap, err := s.view()
	if err != nil {
		return nil, err
	}
	match, err := snap.matcher(rest)
	if err != nil {
		return nil, err
	}
	report := &image.PruneReport{ImagesDeleted: []image.DeleteResponse{}}
	var victims []digest.Digest
	for _, img := range snap.sorted() {
		if _, _, inUse := s.userOf(img.ID); inUse {
			continue
		}
		if (all || len(img.Refs) == 0) && match(img) {
			victims = append(victims, img.ID)
		}
	}
	s.mu.Lock()
	err = s.db.Update(func(tx *metadata.Tx) error {
		for _, id := range victims {
			img := snap.images[id]
			for _, r := range append(img.Refs, img.Digests...) {
				if err := tx.Delete(bucketRefs, r); err != nil {
					return err
				}
				report.ImagesDeleted = append(report.ImagesDeleted, image.DeleteResponse{Untagged: familiar(r)})
			}
			if err := tx.Delete(bucketImages, id.String()); err != nil {
				return err
			}
			report.ImagesDeleted = append(report.ImagesDeleted, image.DeleteResponse{Deleted: id.String()})
		}
		return nil
	})
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	freed, err := s.GC(ctx)
	if err != nil {
		return nil, err
	}
	report.SpaceReclaimed = uint64(freed)
	return report, nil
}

// orphanedDigests lists the digest references of img in tag's repository that go with tag, as
// docker drops them: when tag is the repository's last tag on the image.
func orphanedDigests(img *Image, tag string) []string {
	repo := familiarName(tag)
	for _, r := range img.Refs {
		if r != tag && familiarName(r) == repo {
			return nil
		}
	}
	var out []string
	for _, d := range img.Digests {
		if familiarName(d) == repo {
			out = append(out, d)
		}
	}
	return out
}
