package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/moby/moby/api/types/network"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
)

type createOptions struct {
	name       string
	driver     string
	driverOpts *opts.Map
	labels     *opts.List
	internal   bool
	attachable bool
	ingress    bool
	scope      string
	ipv4       bool
	ipv6       bool
	ipam       ipamOptions
}

// ipamOptions are the address flags; docker pairs each range, gateway and aux address with the
// subnet that contains it.
type ipamOptions struct {
	driver   string
	subnets  []string
	ranges   []string
	gateways []string
	aux      *opts.Map
	opts     *opts.Map
}

func newCreateCommand(c *cli.Cli) *cobra.Command {
	o := createOptions{
		driverOpts: opts.NewMap(nil),
		labels:     opts.NewNormalizedList(opts.ValidateLabel),
		ipam:       ipamOptions{aux: opts.NewMap(nil), opts: opts.NewMap(nil)},
	}
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			// Unset address families are left to the daemon's defaults, as docker does.
			var ipv4, ipv6 *bool
			if cmd.Flags().Changed("ipv4") {
				ipv4 = &o.ipv4
			}
			if cmd.Flags().Changed("ipv6") {
				ipv6 = &o.ipv6
			}
			return runCreate(cmd.Context(), c, o, ipv4, ipv6)
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&o.driver, "driver", "d", "bridge", "Driver to manage the Network")
	flags.VarP(o.driverOpts, "opt", "o", "Set driver specific options")
	flags.Var(o.labels, "label", "Set metadata on a network")
	flags.BoolVar(&o.internal, "internal", false, "Restrict external access to the network")
	flags.BoolVar(&o.attachable, "attachable", false, "Enable manual container attachment")
	flags.BoolVar(&o.ingress, "ingress", false, "Create swarm routing-mesh network")
	flags.StringVar(&o.scope, "scope", "", "Control the network's scope")
	flags.BoolVar(&o.ipv4, "ipv4", true, "Enable or disable IPv4 address assignment")
	flags.BoolVar(&o.ipv6, "ipv6", false, "Enable or disable IPv6 address assignment")
	flags.StringVar(&o.ipam.driver, "ipam-driver", "default", "IP Address Management Driver")
	flags.StringSliceVar(&o.ipam.subnets, "subnet", nil, "Subnet in CIDR format that represents a network segment")
	flags.StringSliceVar(&o.ipam.ranges, "ip-range", nil, "Allocate container ip from a sub-range")
	flags.StringSliceVar(&o.ipam.gateways, "gateway", nil, "IPv4 or IPv6 Gateway for the master subnet")
	flags.Var(o.ipam.aux, "aux-address", "Auxiliary IPv4 or IPv6 addresses used by Network driver")
	flags.Var(o.ipam.opts, "ipam-opt", "Set IPAM driver specific options")
	return cmd
}

func runCreate(ctx context.Context, c *cli.Cli, o createOptions, ipv4, ipv6 *bool) error {
	ipam, err := o.ipam.config()
	if err != nil {
		return err
	}
	resp, err := c.Client().NetworkCreate(ctx, network.CreateRequest{
		Name:       o.name,
		Driver:     o.driver,
		Scope:      o.scope,
		EnableIPv4: ipv4,
		EnableIPv6: ipv6,
		IPAM:       &network.IPAM{Driver: o.ipam.driver, Options: o.ipam.opts.Values(), Config: ipam},
		Internal:   o.internal,
		Attachable: o.attachable,
		Ingress:    o.ingress,
		Options:    o.driverOpts.Values(),
		Labels:     opts.KeyValueMap(o.labels.Values()),
	})
	if err != nil {
		return err
	}
	if resp.Warning != "" {
		fmt.Fprintln(c.Err(), "Warning:", resp.Warning)
	}
	_, err = fmt.Fprintln(c.Out(), resp.ID)
	return err
}

// config is one IPAM entry per subnet, with the ranges, gateways and aux addresses that fall in
// it, refused where docker refuses them.
func (o ipamOptions) config() ([]network.IPAMConfig, error) {
	if len(o.subnets) < len(o.ranges) || len(o.subnets) < len(o.gateways) {
		return nil, errors.New("every ip-range or gateway must have a corresponding subnet")
	}
	configs := make([]network.IPAMConfig, 0, len(o.subnets))
	for _, s := range o.subnets {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("invalid subnet %s: %w", s, err)
		}
		for _, prev := range configs {
			if prev.Subnet.Overlaps(p) {
				return nil, errors.New("multiple overlapping subnet configuration is not allowed")
			}
		}
		configs = append(configs, network.IPAMConfig{Subnet: p})
	}
	for _, r := range o.ranges {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			return nil, fmt.Errorf("invalid ip-range %s: %w", r, err)
		}
		cfg := containing(configs, p.Addr())
		if cfg == nil || cfg.Subnet.Bits() > p.Bits() {
			return nil, fmt.Errorf("no matching subnet for range %s", r)
		}
		if cfg.IPRange.IsValid() {
			return nil, fmt.Errorf("cannot configure multiple ranges (%s, %s) on the same subnet (%s)", r, cfg.IPRange, cfg.Subnet)
		}
		cfg.IPRange = p
	}
	for _, g := range o.gateways {
		a, err := netip.ParseAddr(g)
		if err != nil {
			return nil, fmt.Errorf("invalid gateway %s: %w", g, err)
		}
		cfg := containing(configs, a)
		if cfg == nil {
			return nil, fmt.Errorf("no matching subnet for gateway %s", g)
		}
		if cfg.Gateway.IsValid() {
			return nil, fmt.Errorf("cannot configure multiple gateways (%s, %s) for the same subnet (%s)", g, cfg.Gateway, cfg.Subnet)
		}
		cfg.Gateway = a
	}
	for name, v := range o.aux.Values() {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("invalid aux-address %s: %w", v, err)
		}
		cfg := containing(configs, a)
		if cfg == nil {
			return nil, fmt.Errorf("no matching subnet for aux-address %s", v)
		}
		if cfg.AuxAddress == nil {
			cfg.AuxAddress = map[string]netip.Addr{}
		}
		cfg.AuxAddress[name] = a
	}
	return configs, nil
}

// containing is the entry whose subnet holds a, or nil.
func containing(configs []network.IPAMConfig, a netip.Addr) *network.IPAMConfig {
	for i := range configs {
		if configs[i].Subnet.Contains(a) {
			return &configs[i]
		}
	}
	return nil
}
