package image

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/errdefs"
	imagesvc "github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/server"
)

func parseFilters(r *http.Request) (filters.Args, error) {
	f, err := filters.Parse(r.URL.Query().Get("filters"))
	if err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	// API < 1.41 clients may still send ?filter=<reference>.
	if ref := r.URL.Query().Get("filter"); ref != "" {
		f.Add("reference", ref)
	}
	return f, nil
}

func (rt *Router) list(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := parseFilters(r)
	if err != nil {
		return err
	}
	imgs, err := rt.backend.List(r.Context(), f)
	if err != nil {
		return err
	}
	if server.CompareVersions(server.VersionOf(r), "1.44") < 0 {
		// Older clients expect placeholders for untagged images.
		for i := range imgs {
			if len(imgs[i].RepoTags) == 0 {
				imgs[i].RepoTags = []string{"<none>:<none>"}
			}
			if len(imgs[i].RepoDigests) == 0 {
				imgs[i].RepoDigests = []string{"<none>@<none>"}
			}
		}
	}
	return server.WriteJSON(w, http.StatusOK, imgs)
}

func (rt *Router) inspect(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	img, err := rt.backend.Inspect(r.Context(), vars["name"])
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, img)
}

func (rt *Router) history(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	h, err := rt.backend.History(r.Context(), vars["name"])
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, h)
}

func (rt *Router) tag(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	q := r.URL.Query()
	if err := rt.backend.Tag(r.Context(), vars["name"], q.Get("repo"), q.Get("tag")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (rt *Router) remove(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	resp, err := rt.backend.Remove(r.Context(), vars["name"], server.BoolValue(r, "force"))
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, resp)
}

func (rt *Router) prune(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := parseFilters(r)
	if err != nil {
		return err
	}
	report, err := rt.backend.Prune(r.Context(), f)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, report)
}

// quietProgress passes on lines but drops per-layer progress, for ?quiet=1.
type quietProgress struct{ *server.JSONStream }

func (quietProgress) Layer(string, string, int64, int64) {}

func (rt *Router) load(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	stream := server.NewJSONStream(w)
	var progress imagesvc.Progress = stream
	if server.BoolValue(r, "quiet") {
		progress = quietProgress{stream}
	}
	err := rt.backend.Load(r.Context(), r.Body, progress)
	stream.Finish(err)
	return nil
}

func (rt *Router) saveMany(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	return rt.save(w, r, r.URL.Query()["names"])
}

func (rt *Router) saveOne(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	return rt.save(w, r, []string{vars["name"]})
}

func (rt *Router) save(w http.ResponseWriter, r *http.Request, names []string) error {
	if len(names) == 0 {
		return errdefs.InvalidArgumentf("no image names given to save")
	}
	// Resolve names before the status goes out, so a missing image is a clean 404.
	for _, n := range names {
		if _, err := rt.backend.Inspect(r.Context(), n); err != nil {
			return err
		}
	}
	return server.WriteTar(w, func(out io.Writer) error { return rt.backend.Save(r.Context(), names, out) })
}

func (rt *Router) create(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	q := r.URL.Query()
	if q.Get("fromImage") != "" {
		return rt.pull(w, r)
	}
	src := q.Get("fromSrc")
	if src == "" {
		return errdefs.InvalidArgumentf("either fromImage or fromSrc must be given")
	}
	opts := imagesvc.ImportOptions{
		Repo: q.Get("repo"), Tag: q.Get("tag"), Source: src,
		Message: q.Get("message"), Changes: q["changes"], Platform: q.Get("platform"),
	}
	var body io.Reader = r.Body
	if src != "-" {
		rc, err := rt.download(r.Context(), src)
		if err != nil {
			return err
		}
		defer rc.Close()
		body = rc
	}
	stream := server.NewJSONStream(w)
	id, err := rt.backend.Import(r.Context(), body, opts)
	if err == nil {
		stream.Send(types.JSONMessage{Status: id.String()})
	}
	stream.Finish(err)
	return nil
}

func (rt *Router) download(ctx context.Context, src string) (io.ReadCloser, error) {
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		if !strings.Contains(src, "://") {
			u, err = url.Parse("http://" + src)
		}
		if err != nil || u.Host == "" {
			return nil, errdefs.InvalidArgumentf("invalid import source %q: give - for the request body or an http(s) URL", src)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	resp, err := rt.fetch.Do(req)
	if err != nil {
		cancel()
		return nil, errdefs.InvalidArgumentf("fetching %s: %v", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, errdefs.InvalidArgumentf("fetching %s: server answered %s", u, resp.Status)
	}
	return &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
