// Package network serves the /networks endpoints: list, inspect, create, remove, prune, and
// connecting containers to networks and disconnecting them.
package network

import (
	"context"

	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/api/filters"
)

// Backend is the network service, with container attachment, as these routes use it.
type Backend interface {
	Create(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error)
	List(ctx context.Context, f filters.Args) ([]network.Summary, error)
	Inspect(ctx context.Context, ref string) (network.Inspect, error)
	Remove(ctx context.Context, ref string) error
	Prune(ctx context.Context, f filters.Args) ([]string, error)
	ConnectNetwork(ctx context.Context, netRef, ctrRef string, ep *network.EndpointSettings) error
	DisconnectNetwork(ctx context.Context, netRef, ctrRef string, force bool) error
}
