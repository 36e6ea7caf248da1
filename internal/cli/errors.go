package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/berth-project/berth/client"
)

// StatusError ends the CLI with StatusCode after printing Status (when not empty) to stderr.
type StatusError struct {
	Status     string
	StatusCode int
}

func (e StatusError) Error() string {
	if e.Status == "" {
		return fmt.Sprintf("exit status %d", e.StatusCode)
	}
	return e.Status
}

// CancelledError ends the CLI quietly with status 0: the user declined a prompt.
type CancelledError struct{ Reason string }

func (e CancelledError) Error() string { return e.Reason }

// IsCancelled reports whether err is a CancelledError.
func IsCancelled(err error) bool {
	var ce CancelledError
	return errors.As(err, &ce)
}

// DaemonErrorPrefix starts every message that comes from a daemon reply.
const DaemonErrorPrefix = "Error response from daemon: "

// ErrorText is err as the CLI prints it: a daemon reply gets docker's "Error response from
// daemon: " prefix, wherever its message sits in a wrapped error.
func ErrorText(err error) string {
	text := err.Error()
	if se, ok := client.IsServerError(err); ok && !strings.Contains(text, DaemonErrorPrefix) {
		if idx := strings.Index(text, se.Message); idx >= 0 && se.Message != "" {
			return text[:idx] + DaemonErrorPrefix + text[idx:]
		}
		return DaemonErrorPrefix + text
	}
	return text
}
