package compose

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"
)

// ensureNetworks creates the project networks that do not exist yet; external ones must exist.
func (e *Engine) ensureNetworks(ctx context.Context, p *types.Project) error {
	for _, key := range format.SortedKeys(p.Networks) {
		n := p.Networks[key]
		if _, _, err := e.API.NetworkInspect(ctx, n.Name, client.NetworkInspectOptions{}); err == nil {
			continue
		} else if !errdefs.IsNotFound(err) {
			return err
		}
		if n.External {
			return fmt.Errorf("network %s declared as external, but could not be found", n.Name)
		}
		req := network.CreateRequest{
			Name:       n.Name,
			Driver:     n.Driver,
			Options:    n.DriverOpts,
			Internal:   n.Internal,
			Attachable: n.Attachable,
			EnableIPv4: n.EnableIPv4,
			EnableIPv6: n.EnableIPv6,
			Labels:     resourceLabels(mergeLabels(n.Labels, n.CustomLabels), p.Name, LabelNetwork, key, e.Version),
		}
		if len(n.Ipam.Config) > 0 || n.Ipam.Driver != "" {
			ipam, err := ipamConfig(n)
			if err != nil {
				return err
			}
			req.IPAM = ipam
		}
		if _, err := e.API.NetworkCreate(ctx, req); err != nil {
			return fmt.Errorf("creating network %s: %w", n.Name, err)
		}
		e.event("Network", n.Name, "Created")
	}
	return nil
}

func ipamConfig(n types.NetworkConfig) (*network.IPAM, error) {
	ipam := &network.IPAM{Driver: n.Ipam.Driver, Options: n.Ipam.Options}
	for _, pool := range n.Ipam.Config {
		var c network.IPAMConfig
		var err error
		if pool.Subnet != "" {
			if c.Subnet, err = netip.ParsePrefix(pool.Subnet); err != nil {
				return nil, fmt.Errorf("network %s: invalid subnet %q", n.Name, pool.Subnet)
			}
		}
		if pool.IPRange != "" {
			if c.IPRange, err = netip.ParsePrefix(pool.IPRange); err != nil {
				return nil, fmt.Errorf("network %s: invalid ip_range %q", n.Name, pool.IPRange)
			}
		}
		if pool.Gateway != "" {
			if c.Gateway, err = netip.ParseAddr(pool.Gateway); err != nil {
				return nil, fmt.Errorf("network %s: invalid gateway %q", n.Name, pool.Gateway)
			}
		}
		ipam.Config = append(ipam.Config, c)
	}
	return ipam, nil
}

// ensureVolumes creates the project's named volumes that do not exist yet; external ones must exist.
func (e *Engine) ensureVolumes(ctx context.Context, p *types.Project) error {
	for _, key := range format.SortedKeys(p.Volumes) {
		v := p.Volumes[key]
		if _, _, err := e.API.VolumeInspect(ctx, v.Name); err == nil {
			continue
		} else if !errdefs.IsNotFound(err) {
			return err
		}
		if v.External {
			return fmt.Errorf("external volume %q not found", v.Name)
		}
		_, err := e.API.VolumeCreate(ctx, volume.CreateRequest{
			Name:       v.Name,
			Driver:     v.Driver,
			DriverOpts: v.DriverOpts,
			Labels:     resourceLabels(mergeLabels(v.Labels, v.CustomLabels), p.Name, LabelVolume, key, e.Version),
		})
		if err != nil {
			return fmt.Errorf("creating volume %s: %w", v.Name, err)
		}
		e.event("Volume", v.Name, "Created")
	}
	return nil
}

func mergeLabels(a, b types.Labels) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// removeNetworks removes the project's non-external networks, those the project file names
// and any other still labelled with the project.
func (e *Engine) removeNetworks(ctx context.Context, p *types.Project) error {
	names := map[string]bool{}
	for _, n := range p.Networks {
		if !n.External {
			names[n.Name] = true
		}
	}
	list, err := e.API.NetworkList(ctx, projectFilter(p.Name))
	if err != nil {
		return err
	}
	for _, n := range list {
		names[n.Name] = true
	}
	return e.removeEach(ctx, "Network", names, e.API.NetworkRemove)
}

// removeVolumes removes the project's named volumes (never external ones).
func (e *Engine) removeVolumes(ctx context.Context, p *types.Project) error {
	names := map[string]bool{}
	for _, v := range p.Volumes {
		if !v.External {
			names[v.Name] = true
		}
	}
	list, err := e.API.VolumeList(ctx, projectFilter(p.Name))
	if err != nil {
		return err
	}
	for _, v := range list.Volumes {
		names[v.Name] = true
	}
	return e.removeEach(ctx, "Volume", names, func(ctx context.Context, name string) error {
		return e.API.VolumeRemove(ctx, name, false)
	})
}

// removeEach removes the named networks or volumes; one already gone is no error.
func (e *Engine) removeEach(ctx context.Context, kind string, names map[string]bool, remove func(context.Context, string) error) error {
	for _, name := range format.SortedKeys(names) {
		err := remove(ctx, name)
		switch {
		case err == nil:
			e.event(kind, name, "Removed")
		case errdefs.IsNotFound(err):
		default:
			return fmt.Errorf("removing %s %s: %w", strings.ToLower(kind), name, err)
		}
	}
	return nil
}
