package image

import (
	"net/http"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	imagesvc "github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/server"
)

// pull serves POST /images/create?fromImage=NAME&tag=TAG|DIGEST&platform=P. Without a tag (and
// without one in fromImage) every tag is pulled, as docker does for `pull -a`.
func (rt *Router) pull(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	auth, err := registry.DecodeAuthHeader(r.Header.Get("X-Registry-Auth"))
	if err != nil {
		return err
	}
	image, tag := q.Get("fromImage"), q.Get("tag")
	allTags := tag == ""
	switch {
	case strings.HasPrefix(tag, "sha256:"):
		image += "@" + tag
	case tag != "":
		if strings.ContainsAny(tag, "/@") {
			return errdefs.InvalidArgumentf("invalid tag format: %s", tag)
		}
		image += ":" + tag
	}
	stream := server.NewJSONStream(w)
	err = rt.backend.Pull(r.Context(), image, allTags, imagesvc.PullOptions{Platform: q.Get("platform"), Auth: auth}, stream)
	stream.Finish(err)
	return nil
}

// push serves POST /images/{name}/push?tag=TAG; without a tag every local tag of name is pushed.
func (rt *Router) push(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	auth, err := registry.DecodeAuthHeader(r.Header.Get("X-Registry-Auth"))
	if err != nil {
		return err
	}
	image := vars["name"]
	if tag := r.URL.Query().Get("tag"); tag != "" {
		image += ":" + tag
	}
	stream := server.NewJSONStream(w)
	stream.Finish(rt.backend.Push(r.Context(), image, auth, stream))
	return nil
}

// distribution serves GET /distribution/{name}/json: the registry's descriptor and platforms for
// name, nothing pulled.
func (rt *Router) distribution(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	auth, err := registry.DecodeAuthHeader(r.Header.Get("X-Registry-Auth"))
	if err != nil {
		return err
	}
	info, err := rt.backend.Distribution(r.Context(), vars["name"], auth)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, info)
}
