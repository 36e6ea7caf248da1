package image

import (
	"testing"

	"github.com/moby/moby/api/types/image"
)

func TestRowsExpansion(t *testing.T) {
	img := image.Summary{
		ID:          "sha256:aaaaaaaaaaaaaaaaaaaa",
		RepoTags:    []string{"docker.io/library/busybox:latest", "busybox:musl", "invalid::tag"},
		RepoDigests: []string{"busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111", "other/repo@sha256:2222222222222222222222222222222222222222222222222222222222222222"},
	}
	type rt struct{ repo, tag, digest string }
	collect := func(digests bool) []rt {
		var out []rt
		for _, r := range Rows([]image.Summary{img}, true, digests) {
			row := r.(*Row)
			out = append(out, rt{row.Repository(), row.Tag(), row.Digest()})
		}
		return out
	}
	d1 := "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 := "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	want := []rt{{"busybox", "latest", "<none>"}, {"busybox", "musl", "<none>"}, {"other/repo", "<none>", "<none>"}}
	if got := collect(false); !equal(got, want) {
		t.Errorf("without digests: %v, want %v", got, want)
	}
	want = []rt{{"busybox", "latest", d1}, {"busybox", "musl", d1}, {"other/repo", "<none>", d2}}
	if got := collect(true); !equal(got, want) {
		t.Errorf("with digests: %v, want %v", got, want)
	}
	bare := Rows([]image.Summary{{ID: "sha256:bbbbbbbbbbbbbbbbbbbb"}}, false, false)
	if len(bare) != 1 {
		t.Fatalf("untagged image: %d rows", len(bare))
	}
	row := bare[0].(*Row)
	if row.Repository() != "<none>" || row.Tag() != "<none>" || row.ID() != "sha256:bbbbbbbbbbbbbbbbbbbb" {
		t.Errorf("untagged row %+v", row)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseTagTarget(t *testing.T) {
	cases := []struct{ target, repo, tag string }{
		{"busybox", "docker.io/library/busybox", "latest"},
		{"me/bb:v1", "docker.io/me/bb", "v1"},
		{"localhost:5000/x", "localhost:5000/x", "latest"},
	}
	for _, tc := range cases {
		repo, tag, err := ParseTagTarget("busybox", tc.target)
		if err != nil || repo != tc.repo || tag != tc.tag {
			t.Errorf("%s: %q %q %v", tc.target, repo, tag, err)
		}
	}
	if _, _, err := ParseTagTarget("busybox", "x@sha256:1111111111111111111111111111111111111111111111111111111111111111"); err == nil ||
		err.Error() != "refusing to create a tag with a digest reference" {
		t.Errorf("digest target: %v", err)
	}
}
