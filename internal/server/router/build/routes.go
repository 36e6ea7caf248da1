package build

import "github.com/berth-project/berth/internal/server"

// Router serves the build endpoints.
type Router struct {
	backend Backend
}

// New returns the build router.
func New(b Backend) *Router { return &Router{backend: b} }

// Routes implements server.Router.
func (rt *Router) Routes() []server.Route {
	return []server.Route{
		{Method: "POST", Path: "/build", Handler: rt.build},
		{Method: "POST", Path: "/build/prune", Handler: rt.prune},
	}
}
