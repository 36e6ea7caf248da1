package registry

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/berth-project/berth/internal/errdefs"
)

// Describe renders a registry's error the way docker does ("manifest unknown: manifest unknown",
// "unauthorized: authentication required"), or err's own text for other errors.
func Describe(err error) string {
	var te *transport.Error
	if !errors.As(err, &te) {
		return err.Error()
	}
	if len(te.Errors) == 0 {
		if te.StatusCode == http.StatusUnauthorized {
			return "unauthorized: authentication required" // HEAD answers carry no body
		}
		return err.Error()
	}
	parts := make([]string, 0, len(te.Errors))
	for _, d := range te.Errors {
		code := strings.ToLower(strings.ReplaceAll(string(d.Code), "_", " "))
		if d.Message == "" {
			parts = append(parts, code)
		} else {
			parts = append(parts, code+": "+d.Message)
		}
	}
	return strings.Join(parts, "; ")
}

// StatusCode is the HTTP status a registry answered err with, or 0.
func StatusCode(err error) int {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode
	}
	return 0
}

// classify gives err the error class its registry status means, prefixed with what was being done.
func classify(err error, doing string) error {
	msg := fmt.Sprintf("%s: %s", doing, Describe(err))
	switch StatusCode(err) {
	case http.StatusUnauthorized:
		return errdefs.Unauthorizedf("%s", Describe(err)) // docker shows the registry's words alone
	case http.StatusForbidden:
		return errdefs.Forbiddenf("%s", msg)
	case http.StatusNotFound:
		return errdefs.NotFoundf("%s", msg)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return errdefs.Unavailablef("%s", msg)
	}
	return fmt.Errorf("%s: %w", doing, err)
}
