package volume

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/server"
	volumesvc "github.com/berth-project/berth/internal/volume"
)

func parseFilters(r *http.Request) (filters.Args, error) {
	f, err := filters.Parse(r.URL.Query().Get("filters"))
	if err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	return f, nil
}

func (rt *Router) list(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := parseFilters(r)
	if err != nil {
		return err
	}
	vols, err := rt.backend.List(r.Context(), f)
	if err != nil {
		return err
	}
	out := volume.ListResponse{Volumes: make([]volume.Volume, 0, len(vols)), Warnings: []string{}}
	for _, v := range vols {
		out.Volumes = append(out.Volumes, *v)
	}
	return server.WriteJSON(w, http.StatusOK, out)
}

func (rt *Router) create(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var req volume.CreateRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		return errdefs.InvalidArgumentf("invalid JSON body: %v", err)
	}
	v, err := rt.backend.Create(r.Context(), volumesvc.CreateOptions{Name: req.Name, Driver: req.Driver, Options: req.DriverOpts, Labels: req.Labels})
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusCreated, v)
}

func (rt *Router) inspect(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	v, err := rt.backend.Get(r.Context(), vars["name"])
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, v)
}

func (rt *Router) remove(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := rt.backend.Remove(r.Context(), vars["name"], server.BoolValue(r, "force")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rt *Router) prune(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := parseFilters(r)
	if err != nil {
		return err
	}
	// Before API 1.42 prune removed every unused volume; since then only anonymous ones unless all=true.
	if server.CompareVersions(server.VersionOf(r), "1.42") < 0 {
		delete(f, "all")
		f.Add("all", "true")
	}
	report, err := rt.backend.Prune(r.Context(), f)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, report)
}

func (rt *Router) export(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	// Resolve the name before the status goes out, so a missing volume is a clean 404.
	if _, err := rt.backend.Get(r.Context(), vars["name"]); err != nil {
		return err
	}
	return server.WriteTar(w, func(out io.Writer) error { return rt.backend.Export(r.Context(), vars["name"], out) })
}

func (rt *Router) importTar(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := rt.backend.Import(r.Context(), vars["name"], r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
