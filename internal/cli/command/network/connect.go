package network

import (
	"context"

	"github.com/moby/moby/api/types/network"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/command/container"
	"github.com/berth-project/berth/internal/cli/opts"
)

type connectOptions struct {
	network      string
	container    string
	ipv4         string
	ipv6         string
	aliases      []string
	links        *opts.List
	linkLocalIPs []string
	driverOpts   *opts.Map
	gwPriority   int
}

func newConnectCommand(c *cli.Cli) *cobra.Command {
	o := connectOptions{links: opts.NewList(nil), driverOpts: opts.NewMap(nil)}
	cmd := &cobra.Command{
		Use:   "connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a container to a network",
		Args:  cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.network, o.container = args[0], args[1]
			return runConnect(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&o.ipv4, "ip", "", `IPv4 address (e.g., "172.30.100.104")`)
	flags.StringVar(&o.ipv6, "ip6", "", `IPv6 address (e.g., "2001:db8::33")`)
	flags.Var(o.links, "link", "Add link to another container")
	flags.StringSliceVar(&o.aliases, "alias", nil, "Add network-scoped alias for the container")
	flags.StringSliceVar(&o.linkLocalIPs, "link-local-ip", nil, "Add a link-local address for the container")
	flags.Var(o.driverOpts, "driver-opt", "driver options for the network")
	flags.IntVar(&o.gwPriority, "gw-priority", 0, "Highest gw-priority provides the default gateway. Accepts positive and negative values.")
	return cmd
}

// runConnect sends the endpoint settings `run --network` would make from the same options.
func runConnect(ctx context.Context, c *cli.Cli, o connectOptions) error {
	ep, err := container.EndpointSettings(opts.NetworkAttachment{
		Target: o.network, DriverOpts: o.driverOpts.Values(), Links: o.links.Values(),
		IPv4Address: o.ipv4, IPv6Address: o.ipv6, LinkLocalIPs: o.linkLocalIPs, GwPriority: o.gwPriority,
	})
	if err != nil {
		return err
	}
	// Aliases are the daemon's to refuse on a network without them, as with docker's CLI.
	if len(o.aliases) > 0 {
		if ep == nil {
			ep = &network.EndpointSettings{}
		}
		ep.Aliases = o.aliases
	}
	return c.Client().NetworkConnect(ctx, o.network, o.container, ep)
}

type disconnectOptions struct {
	network   string
	container string
	force     bool
}

func newDisconnectCommand(c *cli.Cli) *cobra.Command {
	var o disconnectOptions
	cmd := &cobra.Command{
		Use:   "disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.network, o.container = args[0], args[1]
			return runDisconnect(cmd.Context(), c, o)
		},
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "Force the container to disconnect from a network")
	return cmd
}

func runDisconnect(ctx context.Context, c *cli.Cli, o disconnectOptions) error {
	return c.Client().NetworkDisconnect(ctx, o.network, o.container, o.force)
}
