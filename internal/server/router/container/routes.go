package container

import "github.com/berth-project/berth/internal/server"

// Router serves the container endpoints.
type Router struct{ backend Backend }

// New returns the container router.
func New(b Backend) *Router { return &Router{backend: b} }

// Routes implements server.Router.
func (rt *Router) Routes() []server.Route {
	return []server.Route{
		{Method: "POST", Path: "/containers/create", Handler: rt.create},
		{Method: "GET", Path: "/containers/json", Handler: rt.list},
		{Method: "GET", Path: "/containers/{name}/json", Handler: rt.inspect},
		{Method: "POST", Path: "/containers/{name}/start", Handler: rt.start},
		{Method: "POST", Path: "/containers/{name}/stop", Handler: rt.stop},
		{Method: "POST", Path: "/containers/{name}/restart", Handler: rt.restart},
		{Method: "POST", Path: "/containers/{name}/kill", Handler: rt.kill},
		{Method: "POST", Path: "/containers/{name}/wait", Handler: rt.wait},
		{Method: "DELETE", Path: "/containers/{name}", Handler: rt.remove},
		{Method: "GET", Path: "/containers/{name}/logs", Handler: rt.logs},
		{Method: "POST", Path: "/containers/{name}/attach", Handler: rt.attach},
		{Method: "POST", Path: "/containers/{name}/resize", Handler: rt.resize},
		{Method: "POST", Path: "/containers/{name}/exec", Handler: rt.execCreate},
		{Method: "POST", Path: "/exec/{id}/start", Handler: rt.execStart},
		{Method: "GET", Path: "/exec/{id}/json", Handler: rt.execInspect},
		{Method: "POST", Path: "/exec/{id}/resize", Handler: rt.execResize},
		{Method: "GET", Path: "/containers/{name}/top", Handler: rt.top},
		{Method: "POST", Path: "/containers/{name}/pause", Handler: rt.pause},
		{Method: "POST", Path: "/containers/{name}/unpause", Handler: rt.unpause},
		{Method: "POST", Path: "/containers/{name}/rename", Handler: rt.rename},
		{Method: "POST", Path: "/containers/{name}/update", Handler: rt.update},
		{Method: "POST", Path: "/containers/prune", Handler: rt.prune},
		{Method: "HEAD", Path: "/containers/{name}/archive", Handler: rt.archiveStat},
		{Method: "GET", Path: "/containers/{name}/archive", Handler: rt.archiveGet},
		{Method: "PUT", Path: "/containers/{name}/archive", Handler: rt.archivePut},
		{Method: "GET", Path: "/containers/{name}/changes", Handler: rt.changes},
		{Method: "GET", Path: "/containers/{name}/export", Handler: rt.export},
		{Method: "POST", Path: "/commit", Handler: rt.commit},
		{Method: "GET", Path: "/containers/{name}/stats", Handler: rt.stats},
	}
}
