// Package types holds Engine API wire types whose shape at API 1.51 differs from moby's current API module.
package types

import (
	"github.com/moby/moby/api/types/image"
)

// DiskUsage is the reply of GET /system/df as API 1.51 clients decode it.
type DiskUsage struct {
	LayersSize int64
	Images     []*image.Summary
	Containers []any
	Volumes    []any
	BuildCache []any
}

// ErrorResponse is the body of every non-2xx reply.
type ErrorResponse struct {
	Message string `json:"message"`
}

// JSONMessage is one line of the newline-delimited progress streams (pull, push, load, build, import).
type JSONMessage struct {
	Stream          string          `json:"stream,omitempty"`
	Status          string          `json:"status,omitempty"`
	Progress        *ProgressDetail `json:"progressDetail,omitempty"`
	ProgressMessage string          `json:"progress,omitempty"`
	ID              string          `json:"id,omitempty"`
	Error           *JSONError      `json:"errorDetail,omitempty"`
	ErrorMessage    string          `json:"error,omitempty"`
	Aux             any             `json:"aux,omitempty"`
}

// ProgressDetail counts bytes done of a total.
type ProgressDetail struct {
	Current int64 `json:"current,omitempty"`
	Total   int64 `json:"total,omitempty"`
}

// JSONError is the error of a failed stream.
type JSONError struct {
	Code    int    `json:"code,omitempty"`
	Message string `json:"message"`
}

// HealthOnFailureLabel is the container label naming what berthd does when the container turns
// unhealthy: none, kill, restart or stop (podman's --health-on-failure; docker has none). A label
// lets the docker CLI and compose files ask for it too.
const HealthOnFailureLabel = "berth.health-on-failure"
