package network

import "github.com/berth-project/berth/internal/server"

// Router serves the network endpoints.
type Router struct {
	backend Backend
}

// New returns the network router.
func New(b Backend) *Router { return &Router{backend: b} }

// Routes implements server.Router. The fixed paths come first so that "create" and "prune" are
// never taken for network names.
func (rt *Router) Routes() []server.Route {
	return []server.Route{
		{Method: "GET", Path: "/networks", Handler: rt.list},
		{Method: "POST", Path: "/networks/create", Handler: rt.create},
		{Method: "POST", Path: "/networks/prune", Handler: rt.prune},
		{Method: "GET", Path: "/networks/{id}", Handler: rt.inspect},
		{Method: "DELETE", Path: "/networks/{id}", Handler: rt.remove},
		{Method: "POST", Path: "/networks/{id}/connect", Handler: rt.connect},
		{Method: "POST", Path: "/networks/{id}/disconnect", Handler: rt.disconnect},
	}
}
