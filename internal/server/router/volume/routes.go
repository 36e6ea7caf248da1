package volume

import "github.com/berth-project/berth/internal/server"

// Router serves the volume endpoints.
type Router struct {
	backend Backend
}

// New returns the volume router.
func New(b Backend) *Router { return &Router{backend: b} }

// Routes implements server.Router. Export and import are berth's own, so they live under /berth
// where no docker endpoint will ever appear.
func (rt *Router) Routes() []server.Route {
	return []server.Route{
		{Method: "GET", Path: "/volumes", Handler: rt.list},
		{Method: "POST", Path: "/volumes/create", Handler: rt.create},
		{Method: "POST", Path: "/volumes/prune", Handler: rt.prune},
		{Method: "GET", Path: "/volumes/{name}", Handler: rt.inspect},
		{Method: "DELETE", Path: "/volumes/{name}", Handler: rt.remove},
		{Method: "GET", Path: "/berth/volumes/{name}/export", Handler: rt.export},
		{Method: "POST", Path: "/berth/volumes/{name}/import", Handler: rt.importTar},
	}
}
