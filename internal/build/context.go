package build

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
)

// buildContext is a build's context unpacked in a temporary directory, with its Dockerfile and
// .dockerignore rules.
type buildContext struct {
	dir        string
	dockerfile []byte
	ignore     *patternmatcher.PatternMatcher // nil: nothing ignored
}

func (c *buildContext) Close() { os.RemoveAll(c.dir) }

// openContext unpacks the context (the request body, or the remote URL) and reads the Dockerfile.
func (s *Service) openContext(ctx context.Context, body io.Reader, opts Options) (*buildContext, error) {
	dir, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "context-")
	if err != nil {
		return nil, err
	}
	c := &buildContext{dir: dir}
	if err := s.fillContext(ctx, c, body, opts); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (s *Service) fillContext(ctx context.Context, c *buildContext, body io.Reader, opts Options) error {
	name := opts.Dockerfile
	if opts.Remote != "" {
		if !strings.HasPrefix(opts.Remote, "http://") && !strings.HasPrefix(opts.Remote, "https://") {
			return errdefs.InvalidArgumentf("unsupported remote context %q: only http(s) URLs of a tar or a Dockerfile are supported", opts.Remote)
		}
		resp, err := s.fetch(ctx, opts.Remote)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		if head, _ := br.Peek(512); !isArchive(head) {
			// A plain Dockerfile, as `docker build http://host/Dockerfile` sends.
			raw, err := io.ReadAll(br)
			if err != nil {
				return err
			}
			c.dockerfile = raw
			return nil
		}
		body = br
	}
	if body == nil {
		return errdefs.InvalidArgumentf("no build context: send a tar archive as the request body")
	}
	rc, err := archive.Decompress(body)
	if err != nil {
		return errdefs.InvalidArgumentf("build context: %v", err)
	}
	defer rc.Close()
	if _, err := archive.Apply(ctx, c.dir, rc, archive.ApplyOptions{}); err != nil {
		return errdefs.As(errdefs.InvalidArgument, fmt.Errorf("build context: %w", err))
	}
	if name == "" {
		name = "Dockerfile"
	}
	name = path.Clean("/" + filepath.ToSlash(name))[1:]
	raw, err := os.ReadFile(filepath.Join(c.dir, name))
	if errors.Is(err, fs.ErrNotExist) && name == "Dockerfile" {
		raw, err = os.ReadFile(filepath.Join(c.dir, "dockerfile"))
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errdefs.InvalidArgumentf("Cannot locate specified Dockerfile: %s", opts.Dockerfile)
		}
		return err
	}
	c.dockerfile = raw
	c.ignore, err = readIgnore(c.dir, name)
	return err
}

// readIgnore reads <Dockerfile>.dockerignore, else .dockerignore, at the context root.
func readIgnore(dir, dockerfile string) (*patternmatcher.PatternMatcher, error) {
	for _, name := range []string{dockerfile + ".dockerignore", ".dockerignore"} {
		f, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return Ignore(f)
	}
	return nil, nil
}

// Ignore compiles .dockerignore rules.
func Ignore(r io.Reader) (*patternmatcher.PatternMatcher, error) {
	patterns, err := ignorefile.ReadAll(r)
	if err != nil {
		return nil, errdefs.InvalidArgumentf("error reading .dockerignore: %v", err)
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid .dockerignore pattern: %v", err)
	}
	return pm, nil
}

// ignored reports whether the context path rel (slash-separated) is excluded.
func (c *buildContext) ignored(rel string) bool {
	if c.ignore == nil || rel == "." || rel == "" {
		return false
	}
	m, err := c.ignore.MatchesOrParentMatches(rel)
	return err == nil && m
}

func isArchive(head []byte) bool {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b, // gzip
		len(head) >= 3 && bytes.Equal(head[:3], []byte("BZh")),
		len(head) >= 6 && bytes.Equal(head[:6], []byte{0xfd, '7', 'z', 'X', 'Z', 0}),
		len(head) >= 4 && bytes.Equal(head[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return true
	}
	return len(head) >= 262 && string(head[257:262]) == "ustar"
}

// fetch GETs url, refusing non-2xx answers.
func (s *Service) fetch(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid URL %q: %v", url, err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, errdefs.As(errdefs.Unavailable, fmt.Errorf("failed to GET %s: %w", url, err))
	}
	if resp.StatusCode/100 != 2 {
		resp.Body.Close()
		return nil, errdefs.As(errdefs.Unavailable, fmt.Errorf("failed to GET %s with status %s", url, resp.Status))
	}
	return resp, nil
}
