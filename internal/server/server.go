// Package server is berthd's HTTP front: it listens on unix and TLS tcp sockets, strips and checks the
// API version prefix, dispatches to the routes that routers under router/ declare, and turns errors
// into docker's JSON error replies (errmap.go is the only place that picks status codes).
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/api"
	"github.com/berth-project/berth/internal/errdefs"
)

// HandlerFunc serves one route; vars holds the path variables.
type HandlerFunc func(w http.ResponseWriter, r *http.Request, vars map[string]string) error

// Route binds a method and a path pattern to a handler. Patterns use {name} for one path segment and
// {name:.*} for the rest of a path that may hold slashes, as image names do.
type Route struct {
	Method  string
	Path    string
	Handler HandlerFunc
}

// Router is a group of routes for one noun.
type Router interface {
	Routes() []Route
}

type compiled struct {
	method string
	re     *regexp.Regexp
	names  []string
	h      HandlerFunc
}

// Server dispatches API requests.
type Server struct {
	routes []compiled
	log    *slog.Logger
	http   []*http.Server
	// base is the parent of every request context; Shutdown cancels it so long streams
	// (wait, logs -f, events, attach) end instead of holding the daemon up.
	base   context.Context
	cancel context.CancelFunc
}

var varPattern = regexp.MustCompile(`\{([a-zA-Z]+)(:\.\*)?\}`)

// New builds a server from routers.
func New(log *slog.Logger, routers ...Router) *Server {
	s := &Server{log: log}
	ctx, cancel := context.WithCancel(context.Background())
	s.base, s.cancel = context.WithValue(ctx, streamKey{}, ctx), cancel
	for _, rt := range routers {
		for _, r := range rt.Routes() {
			var names []string
			expr := "^"
			last := 0
			for _, m := range varPattern.FindAllStringSubmatchIndex(r.Path, -1) {
				expr += regexp.QuoteMeta(r.Path[last:m[0]])
				names = append(names, r.Path[m[2]:m[3]])
				if m[4] >= 0 {
					expr += "(.+)"
				} else {
					expr += "([^/]+)"
				}
				last = m[1]
			}
			expr += regexp.QuoteMeta(r.Path[last:]) + "$"
			s.routes = append(s.routes, compiled{method: r.Method, re: regexp.MustCompile(expr), names: names, h: r.Handler})
		}
	}
	return s
}

var versionPrefix = regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/.*)$`)

type versionKey struct{}

// VersionOf returns the API version a request asked for (the newest when unversioned).
func VersionOf(r *http.Request) string {
	if v, ok := r.Context().Value(versionKey{}).(string); ok {
		return v
	}
	return api.DefaultVersion
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set("Server", "Berth/"+api.EngineVersion+" (linux)")
	w.Header().Set("API-Version", api.DefaultVersion)
	w.Header().Set("OSType", "linux")
	p := r.URL.Path
	version := api.DefaultVersion
	if m := versionPrefix.FindStringSubmatch(p); m != nil {
		version, p = m[1], m[2]
		if CompareVersions(version, api.DefaultVersion) > 0 {
			WriteError(w, errdefs.InvalidArgumentf("client version %s is too new. Maximum supported API version is %s", version, api.DefaultVersion))
			return
		}
		if CompareVersions(version, api.MinVersion) < 0 {
			WriteError(w, errdefs.InvalidArgumentf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", version, api.MinVersion))
			return
		}
	}
	r = r.WithContext(context.WithValue(r.Context(), versionKey{}, version))
	methodSeen := false
	for _, rt := range s.routes {
		m := rt.re.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		if rt.method != r.Method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
			methodSeen = true
			continue
		}
		vars := map[string]string{}
		for i, n := range rt.names {
			vars[n] = m[i+1]
		}
		rec := &statusRecorder{ResponseWriter: w}
		if err := rt.h(rec, r, vars); err != nil {
			if !rec.wrote {
				WriteError(rec, err)
			}
			s.log.Debug("request failed", "method", r.Method, "path", r.URL.Path, "status", StatusOf(err), "err", err)
		}
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
		return
	}
	if methodSeen {
		WriteError(w, errdefs.As(errdefs.InvalidArgument, fmt.Errorf("method %s not allowed on %s", r.Method, p)))
		return
	}
	WriteError(w, errdefs.NotFoundf("page not found"))
}

// statusRecorder notes whether a handler already sent its status.
type statusRecorder struct {
	http.ResponseWriter
	wrote  bool
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.wrote, r.status = true, code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.wrote, r.status = true, http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection for hijacking.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// CompareVersions compares dotted API versions numerically.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Listen opens every address (unix:///path or tcp://host:port); tcp needs tlsConfig.
func (s *Server) Listen(addrs []string, tlsConfig *tls.Config) ([]net.Listener, error) {
	var ls []net.Listener
	for _, addr := range addrs {
		l, err := listen(addr, tlsConfig)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func listen(addr string, tlsConfig *tls.Config) (net.Listener, error) {
	proto, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return nil, fmt.Errorf("invalid listen address %q: expected unix:///path or tcp://host:port", addr)
	}
	switch proto {
	case "unix":
		if err := os.MkdirAll(filepath.Dir(rest), 0o755); err != nil {
			return nil, err
		}
		if err := os.Remove(rest); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("remove stale socket %s: %w", rest, err)
		}
		l, err := net.Listen("unix", rest)
		if err != nil {
			return nil, err
		}
		if err := os.Chmod(rest, 0o660); err != nil {
			l.Close()
			return nil, err
		}
		// Like docker, members of the docker group may use the socket.
		if g, err := user.LookupGroup("docker"); err == nil {
			if gid, err := strconv.Atoi(g.Gid); err == nil {
				_ = os.Chown(rest, 0, gid)
			}
		}
		return l, nil
	case "tcp":
		if tlsConfig == nil {
			return nil, fmt.Errorf("refusing to listen on %s without TLS: set --tlsverify, --tlscacert, --tlscert and --tlskey", addr)
		}
		l, err := net.Listen("tcp", rest)
		if err != nil {
			return nil, err
		}
		return tls.NewListener(l, tlsConfig), nil
	default:
		return nil, fmt.Errorf("invalid listen address %q: unsupported protocol %q", addr, proto)
	}
}

// Serve serves on the listeners until Shutdown.
func (s *Server) Serve(ls []net.Listener) <-chan error {
	errc := make(chan error, len(ls))
	for _, l := range ls {
		hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, BaseContext: func(net.Listener) context.Context { return s.base }}
		s.http = append(s.http, hs)
		go func(l net.Listener) {
			if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}(l)
	}
	return errc
}

// Shutdown stops accepting requests and waits for running ones until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	var first error
	for _, hs := range s.http {
		if err := hs.Shutdown(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}
