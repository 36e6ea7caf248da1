package container

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
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
			return fmt.Errorf("Error: No public port '%s' published for %s", private, ref)
		}
		lines := make([]string, 0, len(bindings))
		for _, b := range bindings {
			lines = append(lines, hostAddress(b))
		}
		return printSorted(c, lines)
	}
	var lines []string
	for p, bindings := range ports {
		for _, b := range bindings {
			lines = append(lines, fmt.Sprintf("%s -> %s", p, hostAddress(b)))
		}
	}
	return printSorted(c, lines)
}

// printSorted prints lines in docker's order: natural sort of the whole line.
func printSorted(c *cli.Cli, lines []string) error {
	sort.Slice(lines, func(i, j int) bool { return format.NaturalLess(lines[i], lines[j]) })
	for _, l := range lines {
		if _, err := fmt.Fprintln(c.Out(), l); err != nil {
			return err
		}
	}
	return nil
}
