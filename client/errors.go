package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/errdefs"
)

// ServerError is a non-2xx reply from the daemon. Its text is the daemon's message; callers that
// print it to users prefix "Error response from daemon: " as docker does.
type ServerError struct {
	StatusCode int
	Message    string
}

func (e *ServerError) Error() string { return e.Message }

// ConnectionError means the daemon could not be reached at all.
type ConnectionError struct {
	Host string
	Err  error
}

func (e *ConnectionError) Error() string {
	return fmt.Sprintf("Cannot connect to the berth daemon at %s. Is berthd running?", e.Host)
}

func (e *ConnectionError) Unwrap() error { return e.Err }

// IsConnectionError reports whether err means the daemon could not be reached.
func IsConnectionError(err error) bool {
	var ce *ConnectionError
	return errors.As(err, &ce)
}

// IsServerError reports whether err came from a daemon reply, and returns it.
func IsServerError(err error) (*ServerError, bool) {
	var se *ServerError
	if errors.As(err, &se) {
		return se, true
	}
	return nil, false
}

// ClassForStatus is the error class the client gives a reply with HTTP status code.
func ClassForStatus(code int) errdefs.Class {
	switch code {
	case http.StatusNotFound:
		return errdefs.NotFound
	case http.StatusBadRequest:
		return errdefs.InvalidArgument
	case http.StatusConflict:
		return errdefs.Conflict
	case http.StatusUnauthorized:
		return errdefs.Unauthorized
	case http.StatusForbidden:
		return errdefs.Forbidden
	case http.StatusServiceUnavailable:
		return errdefs.Unavailable
	case http.StatusNotImplemented:
		return errdefs.NotImplemented
	case http.StatusNotModified:
		return errdefs.NotModified
	default:
		return errdefs.Unknown
	}
}

// maxErrorBody bounds how much of an error reply is read.
const maxErrorBody = 1 << 20

// responseError reads a non-2xx reply into a classed *ServerError.
func responseError(resp *http.Response, method string) error {
	var body []byte
	if method != http.MethodHead && resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	}
	msg := errorMessage(resp.Header.Get("Content-Type"), body)
	if msg == "" {
		msg = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return errdefs.As(ClassForStatus(resp.StatusCode), &ServerError{StatusCode: resp.StatusCode, Message: msg})
}

func errorMessage(contentType string, body []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := strings.TrimSpace(string(body))
	if mt == "application/json" || strings.HasPrefix(trimmed, "{") {
		var er types.ErrorResponse
		if err := json.Unmarshal(body, &er); err == nil && er.Message != "" {
			return er.Message
		}
	}
	return trimmed
}
