package system

import (
	"log/slog"
	"sync"

	"github.com/berth-project/berth/internal/host"
	"github.com/berth-project/berth/internal/server"
)

// Router serves the system endpoints.
type Router struct {
	backend Backend
	cfg     Config
	host    host.Facts
	log     *slog.Logger

	versionsMu sync.Mutex
	versions   map[string]string // runtime path -> version
}

// New returns the system router.
func New(b Backend, cfg Config, facts host.Facts, log *slog.Logger) *Router {
	return &Router{backend: b, cfg: cfg, host: facts, log: log, versions: map[string]string{}}
}

// Routes implements server.Router.
func (rt *Router) Routes() []server.Route {
	return []server.Route{
		{Method: "GET", Path: "/_ping", Handler: rt.ping},
		{Method: "GET", Path: "/version", Handler: rt.version},
		{Method: "GET", Path: "/info", Handler: rt.info},
		{Method: "GET", Path: "/system/df", Handler: rt.diskUsage},
		{Method: "GET", Path: "/events", Handler: rt.events},
		{Method: "POST", Path: "/auth", Handler: rt.auth},
	}
}
