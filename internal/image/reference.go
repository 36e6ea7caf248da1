package image

import (
	"regexp"
	"strings"

	"github.com/distribution/reference"

	"github.com/berth-project/berth/internal/errdefs"
)

var hexID = regexp.MustCompile(`^(sha256:)?[a-f0-9]{1,64}$`)

// parseTagged normalises a user's image name to a tagged reference, `latest` when no tag is given.
func parseTagged(name string) (reference.Named, error) {
	ref, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid reference format: %s", strings.TrimPrefix(err.Error(), "invalid reference format: "))
	}
	if _, ok := ref.(reference.Digested); ok {
		return ref, nil
	}
	return reference.TagNameOnly(ref), nil
}

// parseRepoTag joins repo and tag as the tag and import endpoints take them.
func parseRepoTag(repo, tag string) (reference.Named, error) {
	if repo == "" {
		return nil, errdefs.InvalidArgumentf("repository name must not be empty")
	}
	ref, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid reference format: %s", repo)
	}
	if _, ok := ref.(reference.Digested); ok {
		return nil, errdefs.InvalidArgumentf("refusing to create a tag with a digest reference")
	}
	if tag == "" {
		return reference.TagNameOnly(ref), nil
	}
	if _, ok := ref.(reference.Tagged); ok {
		return nil, errdefs.InvalidArgumentf("invalid reference format: %s already has a tag", repo)
	}
	tagged, err := reference.WithTag(reference.TrimNamed(ref), tag)
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid tag format: %s", tag)
	}
	return tagged, nil
}

// familiar returns the short form users see ("busybox:latest" for docker.io/library/busybox:latest).
func familiar(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarString(named)
}

// familiarName is the repository part of familiar(ref).
func familiarName(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarName(named)
}

// nameOnly reports whether the user gave a repository without tag or digest.
func nameOnly(name string) bool {
	ref, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return false
	}
	return reference.IsNameOnly(ref)
}

// refTag returns the tag of a normalized tagged reference ("latest" for docker.io/library/busybox:latest).
func refTag(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ""
	}
	if t, ok := named.(reference.Tagged); ok {
		return t.Tag()
	}
	return ""
}
