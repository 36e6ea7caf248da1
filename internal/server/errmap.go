package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/berth-project/berth/internal/errdefs"
)

// StatusOf is the one place where error classes become HTTP status codes.
func StatusOf(err error) int {
	switch errdefs.ClassOf(err) {
	case errdefs.NotFound:
		return http.StatusNotFound
	case errdefs.InvalidArgument:
		return http.StatusBadRequest
	case errdefs.Conflict:
		return http.StatusConflict
	case errdefs.Unauthorized:
		return http.StatusUnauthorized
	case errdefs.Forbidden:
		return http.StatusForbidden
	case errdefs.Unavailable:
		return http.StatusServiceUnavailable
	case errdefs.NotModified:
		return http.StatusNotModified
	case errdefs.NotImplemented:
		return http.StatusNotImplemented
	}
	if errors.Is(err, context.Canceled) {
		return 499 // client closed the request; nobody reads the body
	}
	return http.StatusInternalServerError
}
