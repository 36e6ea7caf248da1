package container

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/moby/moby/api/types/network"
	"github.com/spf13/cobra"
)

func newPortCommand(c *cli.Cli, use string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container",
		Args:  cli.RequiresRangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			private := ""
			if len(args) > 1 {
				private = args[1]
			}
			return runPort(cmd.Context(), c, args[0], private)
		},
	}
	return cli.WithAliases(cmd, "container port, port")
}

func hostAddress(b network.PortBinding) string {
	ip := ""
	if b.HostIP.IsValid() {
		ip = b.HostIP.String()
	}
	return net.JoinHostPort(ip, b.HostPort)
}

func runPort(ctx context.Context, c *cli.Cli, ref, private string) error {
	info, _, err := c.Client().ContainerInspect(ctx, ref, false)
	if err != nil {
		return err
	}
	var ports network.PortMap
	if info.NetworkSettings != nil {
		ports = info.NetworkSettings.Ports
	}
	if private != "" {
		num, proto, _ := strings.Cut(private, "/")
		if proto == "" {
			proto = "tcp"
		}
		n, err := strconv.ParseUint(num, 10, 16)
		if err != nil {
			return fmt.Errorf("Error: invalid port (%s): %w", num, err)
		}
		port, ok := network.PortFrom(uint16(n), network.IPProtocol(strings.ToLower(proto)))
		if !ok {
			return fmt.Errorf("Error: invalid port (%s)", private)
		}
		bindings := ports[port]
		if len(bindings) == 0 {
			return fmt.Errorf("Error: No public port '%s' published for %s", port, ref)
		}
		for _, b := range bindings {
			fmt.Fprintln(c.Out(), hostAddress(b))
		}
		return nil
	}
	keys := make([]network.Port, 0, len(ports))
	for p := range ports {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Num() != keys[j].Num() {
			return keys[i].Num() < keys[j].Num()
		}
		return keys[i].Proto() < keys[j].Proto()
	})
	for _, p := range keys {
		for _, b := range ports[p] {
			fmt.Fprintf(c.Out(), "%s -> %s\n", p, hostAddress(b))
		}
	}
	return nil
}
