package system

import (
	"encoding/json"
	"net/http"

	apiregistry "github.com/moby/moby/api/types/registry"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/server"
)

// auth serves POST /auth: it checks the credentials against the registry and stores nothing; the
// client keeps them (config.json) and sends them with each pull and push.
func (rt *Router) auth(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var a registry.AuthConfig
	if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
		return errdefs.InvalidArgumentf("invalid auth configuration: %v", err)
	}
	if err := rt.backend.Login(r.Context(), a); err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, apiregistry.AuthResponse{Status: "Login Succeeded"})
}
