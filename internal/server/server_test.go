package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

type testRouter struct{}

func (testRouter) Routes() []Route {
	echo := func(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
		return WriteJSON(w, 200, map[string]string{"name": vars["name"], "version": VersionOf(r)})
	}
	return []Route{
		{Method: "GET", Path: "/images/json", Handler: func(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
			return WriteJSON(w, 200, map[string]string{"name": "list"})
		}},
		{Method: "GET", Path: "/images/{name:.*}/json", Handler: echo},
		{Method: "DELETE", Path: "/things/{name}", Handler: func(http.ResponseWriter, *http.Request, map[string]string) error {
			return errdefs.Conflictf("thing is busy")
		}},
	}
}

func TestRoutingAndErrors(t *testing.T) {
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)), testRouter{})
	cases := []struct {
		method, path string
		code         int
		want         map[string]string
	}{
		{"GET", "/images/json", 200, map[string]string{"name": "list"}},
		{"GET", "/v1.44/images/registry:5000/team/app:1/json", 200, map[string]string{"name": "registry:5000/team/app:1", "version": "1.44"}},
		{"GET", "/images/busybox/json", 200, map[string]string{"name": "busybox", "version": "1.51"}},
		{"DELETE", "/things/x", 409, map[string]string{"message": "thing is busy"}},
		{"GET", "/v9.0/images/json", 400, nil},
		{"GET", "/v1.10/images/json", 400, nil},
		{"GET", "/nope", 404, map[string]string{"message": "page not found"}},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.code {
			t.Errorf("%s %s: status %d, want %d (%s)", c.method, c.path, rec.Code, c.code, rec.Body)
			continue
		}
		if rec.Header().Get("API-Version") != "1.51" {
			t.Errorf("%s: no API-Version header", c.path)
		}
		if c.want == nil {
			continue
		}
		var got map[string]string
		json.Unmarshal(rec.Body.Bytes(), &got)
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s %s: %s=%q, want %q", c.method, c.path, k, got[k], v)
			}
		}
	}
}

func TestCompareVersions(t *testing.T) {
	if CompareVersions("1.9", "1.10") != -1 || CompareVersions("1.51", "1.51") != 0 || CompareVersions("2.0", "1.99") != 1 {
		t.Fatal("numeric comparison")
	}
}
