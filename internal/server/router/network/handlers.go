package network

import (
	"net/http"

	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/server"
)

// The filters docker accepts on GET /networks and POST /networks/prune.
var (
	listFilters  = []string{"dangling", "driver", "id", "label", "name", "scope", "type"}
	pruneFilters = []string{"label", "label!", "until"}
)

func (rt *Router) list(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := server.Filters(r, listFilters...)
	if err != nil {
		return err
	}
	nets, err := rt.backend.List(r.Context(), f)
	if err != nil {
		return err
	}
	// Before API 1.28 the list carried each network's containers, as inspect does.
	if server.CompareVersions(server.VersionOf(r), "1.28") < 0 {
		full := make([]network.Inspect, 0, len(nets))
		for _, n := range nets {
			ni, err := rt.backend.Inspect(r.Context(), n.ID)
			if err != nil {
				return err
			}
			full = append(full, ni)
		}
		return server.WriteJSON(w, http.StatusOK, full)
	}
	if nets == nil {
		nets = []network.Summary{}
	}
	return server.WriteJSON(w, http.StatusOK, nets)
}

func (rt *Router) inspect(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	n, err := rt.backend.Inspect(r.Context(), vars["id"])
	if err != nil {
		return err
	}
	// verbose only adds swarm service details, which a local engine has none of.
	if scope := r.URL.Query().Get("scope"); scope != "" && scope != n.Scope {
		return errdefs.NotFoundf("network %s not found", vars["id"])
	}
	return server.WriteJSON(w, http.StatusOK, n)
}

func (rt *Router) create(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var req network.CreateRequest
	if err := server.DecodeJSON(r, &req); err != nil {
		return err
	}
	resp, err := rt.backend.Create(r.Context(), req)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusCreated, resp)
}

func (rt *Router) remove(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := rt.backend.Remove(r.Context(), vars["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rt *Router) connect(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	var req network.ConnectRequest
	if err := server.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.Container == "" {
		return errdefs.InvalidArgumentf("container name or ID is required")
	}
	if err := rt.backend.ConnectNetwork(r.Context(), vars["id"], req.Container, req.EndpointConfig); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (rt *Router) disconnect(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	var req network.DisconnectRequest
	if err := server.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.Container == "" {
		return errdefs.InvalidArgumentf("container name or ID is required")
	}
	if err := rt.backend.DisconnectNetwork(r.Context(), vars["id"], req.Container, req.Force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (rt *Router) prune(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := server.Filters(r, pruneFilters...)
	if err != nil {
		return err
	}
	deleted, err := rt.backend.Prune(r.Context(), f)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, network.PruneReport{NetworksDeleted: deleted})
}
