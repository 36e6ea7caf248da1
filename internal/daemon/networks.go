package daemon

import (
	"context"

	apinetwork "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/network"
)

// networkBackend serves the network routes: networks come from the network service, attaching
// containers to them from the container service, which owns the containers' endpoints.
type networkBackend struct {
	*network.Service
	containers *container.Service
}

func (b networkBackend) ConnectNetwork(ctx context.Context, netRef, ctrRef string, ep *apinetwork.EndpointSettings) error {
	return b.containers.ConnectNetwork(ctx, netRef, ctrRef, ep)
}

func (b networkBackend) DisconnectNetwork(ctx context.Context, netRef, ctrRef string, force bool) error {
	return b.containers.DisconnectNetwork(ctx, netRef, ctrRef, force)
}
