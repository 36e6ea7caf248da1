package image

import (
	"net/http"

	"github.com/berth-project/berth/internal/server"
)

// Router serves the image endpoints.
type Router struct {
	backend Backend
	// fetch retrieves import sources given as URLs.
	fetch *http.Client
}

// New returns the image router.
func New(b Backend, fetch *http.Client) *Router { return &Router{backend: b, fetch: fetch} }

// Routes implements server.Router. Fixed paths come before the ones whose name may hold slashes.
func (rt *Router) Routes() []server.Route {
	return []server.Route{
		{Method: "GET", Path: "/images/json", Handler: rt.list},
		{Method: "POST", Path: "/images/load", Handler: rt.load},
		{Method: "GET", Path: "/images/get", Handler: rt.saveMany},
		{Method: "POST", Path: "/images/create", Handler: rt.create},
		{Method: "POST", Path: "/images/prune", Handler: rt.prune},
		{Method: "GET", Path: "/images/{name:.*}/get", Handler: rt.saveOne},
		{Method: "GET", Path: "/images/{name:.*}/json", Handler: rt.inspect},
		{Method: "GET", Path: "/images/{name:.*}/history", Handler: rt.history},
		{Method: "POST", Path: "/images/{name:.*}/tag", Handler: rt.tag},
		{Method: "POST", Path: "/images/{name:.*}/push", Handler: rt.push},
		{Method: "DELETE", Path: "/images/{name:.*}", Handler: rt.remove},
		{Method: "GET", Path: "/distribution/{name:.*}/json", Handler: rt.distribution},
	}
}
