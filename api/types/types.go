// Package types holds Engine API wire types whose shape at API 1.51 differs from moby's current API module.
package types

import (
	"github.com/moby/moby/api/types/container"
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

// ContainerInspect is GET /containers/{id}/json as API 1.51 shapes it: moby's current type plus
// the deprecated top-level network fields that 1.51 still sends and scripts still read
// (`{{.NetworkSettings.IPAddress}}`).
type ContainerInspect struct {
	*container.InspectResponse
	NetworkSettings *LegacyNetworkSettings `json:"NetworkSettings"`
}

// LegacyNetworkSettings adds the default bridge endpoint's fields at the top level, as docker does.
type LegacyNetworkSettings struct {
	*container.NetworkSettings
	Bridge                 string   `json:"Bridge"`
	HairpinMode            bool     `json:"HairpinMode"`
	LinkLocalIPv6Address   string   `json:"LinkLocalIPv6Address"`
	LinkLocalIPv6PrefixLen int      `json:"LinkLocalIPv6PrefixLen"`
	SecondaryIPAddresses   []string `json:"SecondaryIPAddresses"`
	SecondaryIPv6Addresses []string `json:"SecondaryIPv6Addresses"`
	EndpointID             string   `json:"EndpointID"`
	Gateway                string   `json:"Gateway"`
	GlobalIPv6Address      string   `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen    int      `json:"GlobalIPv6PrefixLen"`
	IPAddress              string   `json:"IPAddress"`
	IPPrefixLen            int      `json:"IPPrefixLen"`
	IPv6Gateway            string   `json:"IPv6Gateway"`
	MacAddress             string   `json:"MacAddress"`
}

// NewContainerInspect fills the legacy fields from the endpoint on the default "bridge" network.
func NewContainerInspect(c *container.InspectResponse) *ContainerInspect {
	out := &ContainerInspect{InspectResponse: c}
	if c.NetworkSettings == nil {
		return out
	}
	ns := &LegacyNetworkSettings{NetworkSettings: c.NetworkSettings}
	if ep := c.NetworkSettings.Networks["bridge"]; ep != nil {
		ns.EndpointID, ns.MacAddress, ns.IPPrefixLen = ep.EndpointID, ep.MacAddress.String(), ep.IPPrefixLen
		if ep.IPAddress.IsValid() {
			ns.IPAddress = ep.IPAddress.String()
		}
		if ep.Gateway.IsValid() {
			ns.Gateway = ep.Gateway.String()
		}
	}
	out.NetworkSettings = ns
	return out
}
