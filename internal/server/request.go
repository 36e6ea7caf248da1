package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
)

// DecodeJSON reads a JSON request body into v. An empty body leaves v as it is, as docker
// allows; a malformed one is an invalid argument (400).
func DecodeJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return errdefs.InvalidArgumentf("invalid JSON body: %v", err)
	}
	return nil
}

// Filters parses the `filters` query parameter and refuses names outside allowed (400).
func Filters(r *http.Request, allowed ...string) (filters.Args, error) {
	f, err := filters.Parse(r.URL.Query().Get("filters"))
	if err == nil {
		err = f.Validate(allowed...)
	}
	if err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	return f, nil
}
