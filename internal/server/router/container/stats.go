package container

import (
	"encoding/json"
	"net/http"

	"github.com/moby/moby/api/types/container"

	containersvc "github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/server"
)

// stats serves GET /containers/{name}/stats: one JSON object, or one per second with stream=1.
func (rt *Router) stats(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	q := r.URL.Query()
	// stream defaults to true, as in docker.
	opts := containersvc.StatsOptions{Stream: q.Get("stream") == "" || server.BoolValue(r, "stream"), OneShot: server.BoolValue(r, "one-shot")}
	if opts.OneShot && opts.Stream {
		opts.OneShot = false // docker ignores one-shot while streaming
	}
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	started := false
	return rt.backend.Stats(r.Context(), vars["name"], opts, func(s *container.StatsResponse) error {
		if !started {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		if err := enc.Encode(s); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	})
}
