package container

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/opts"
	"github.com/distribution/reference"
	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/spf13/cobra"
)

const (
	defaultPsFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
	quietPsFormat   = "{{.ID}}"
	sizeColumn      = "\t{{.Size}}"
	commandWidth    = 20
	mountNameWidth  = 15
)

// PsHeader returns the column titles of container rows.
func PsHeader() map[string]string {
	return map[string]string{
		"ID":           "CONTAINER ID",
		"Image":        "IMAGE",
		"Command":      "COMMAND",
		"CreatedAt":    "CREATED AT",
		"RunningFor":   "CREATED",
		"Ports":        "PORTS",
		"State":        "STATE",
		"Status":       "STATUS",
		"Size":         "SIZE",
		"Names":        "NAMES",
		"Labels":       "LABELS",
		"Mounts":       "MOUNTS",
		"LocalVolumes": "LOCAL VOLUMES",
		"Networks":     "NETWORKS",
		"Platform":     "PLATFORM",
	}
}

type psOptions struct {
	quiet   bool
	size    bool
	all     bool
	noTrunc bool
	latest  bool
	last    int
	format  string
	filter  *opts.Filter
}

func newListCommand(c *cli.Cli, use string, aliases ...string) *cobra.Command {
	o := psOptions{filter: opts.NewFilter()}
	cmd := &cobra.Command{
		Use:     use + " [OPTIONS]",
		Aliases: aliases,
		Short:   "List containers",
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runList(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "container ls, container list, container ps, ps")
	flags := cmd.Flags()
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Only display container IDs")
	flags.BoolVarP(&o.size, "size", "s", false, "Display total file sizes")
	flags.BoolVarP(&o.all, "all", "a", false, "Show all containers (default shows just running)")
	flags.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	flags.BoolVarP(&o.latest, "latest", "l", false, "Show the latest created container (includes all states)")
	flags.IntVarP(&o.last, "last", "n", -1, "Show n last created containers (includes all states)")
	flags.StringVar(&o.format, "format", "", formatHelp)
	flags.VarP(o.filter, "filter", "f", "Filter output based on conditions provided")
	return cmd
}

func runList(ctx context.Context, c *cli.Cli, o psOptions) error {
	text := o.format
	if text == "" {
		if cfg := c.ConfigFile().PsFormat; cfg != "" && !o.quiet {
			text = cfg
		} else {
			text = format.TableKey
		}
	}
	f := psFormat(text, o.quiet, o.size)
	lo := client.ListOptions{All: o.all, Limit: o.last, Size: o.size, Filters: o.filter.Args()}
	if o.latest && lo.Limit == -1 {
		lo.Limit = 1
	}
	// A custom template that shows sizes needs them computed.
	if !lo.Size && !f.IsBareTable() && strings.Contains(f.Template(), ".Size") {
		lo.Size = true
	}
	list, err := c.Client().ContainerList(ctx, lo)
	if err != nil {
		return err
	}
	return format.Write(c.Out(), f, PsHeader(), PsRows(list, !o.noTrunc))
}

// psFormat resolves the bare "table" format to the default table (IDs only with -q, a size
// column with -s).
func psFormat(text string, quiet, size bool) format.Format {
	f := format.Format(text)
	if !f.IsBareTable() {
		return f
	}
	switch {
	case quiet:
		return quietPsFormat
	case size:
		return defaultPsFormat + sizeColumn
	}
	return defaultPsFormat
}

// PsRows wraps containers as listing rows.
func PsRows(list []container.Summary, trunc bool) []any {
	rows := make([]any, 0, len(list))
	for _, s := range list {
		rows = append(rows, &PsRow{c: s, trunc: trunc})
	}
	return rows
}

// PsRow is one line of `ps`.
type PsRow struct {
	c     container.Summary
	trunc bool
}

// ID is the container ID, 12 digits unless --no-trunc.
func (r *PsRow) ID() string {
	if r.trunc {
		return format.ShortID(r.c.ID)
	}
	return r.c.ID
}

// Names are the container's names without the leading slash; when truncating, only its own
// name (not the link names of other containers).
func (r *PsRow) Names() string {
	names := make([]string, 0, len(r.c.Names))
	for _, n := range r.c.Names {
		names = append(names, strings.TrimPrefix(n, "/"))
	}
	if r.trunc {
		for _, n := range names {
			if !strings.Contains(n, "/") {
				return n
			}
		}
	}
	return strings.Join(names, ",")
}

// Image is the image the container was created from as it was given; when truncating, an image
// ID is cut to 12 digits and a digest is dropped (keeping the tag when there is one).
func (r *PsRow) Image() string {
	img := r.c.Image
	if img == "" {
		return "<no image>"
	}
	if !r.trunc {
		return img
	}
	if short := format.ShortID(r.c.ImageID); short != "" && short == format.ShortID(img) {
		return short
	}
	ref, err := reference.ParseNormalizedNamed(img)
	if err != nil {
		return img
	}
	if tagged, ok := ref.(reference.NamedTagged); ok {
		if t, err := reference.WithTag(reference.TrimNamed(tagged), tagged.Tag()); err == nil {
			return reference.FamiliarString(t)
		}
		return img
	}
	return reference.FamiliarName(reference.TrimNamed(ref))
}

// Command is the command in quotes, cut to 20 characters unless --no-trunc.
func (r *PsRow) Command() string {
	cmd := r.c.Command
	if r.trunc {
		cmd = format.Ellipsis(cmd, commandWidth)
	}
	return strconv.Quote(cmd)
}

// CreatedAt is the creation time.
func (r *PsRow) CreatedAt() string { return time.Unix(r.c.Created, 0).String() }

// RunningFor is the container's age in words ("2 minutes ago").
func (r *PsRow) RunningFor() string { return format.UnixAgo(r.c.Created) }

// Ports are the published and exposed ports, consecutive ones as ranges.
func (r *PsRow) Ports() string { return DisplayablePorts(r.c.Ports) }

// State is the state word (running, exited, ...).
func (r *PsRow) State() string { return string(r.c.State) }

// Status is the daemon's status text ("Up 2 seconds", "Exited (0) 3 seconds ago").
func (r *PsRow) Status() string { return r.c.Status }

// Size is the writable layer's size, and the virtual size when known.
func (r *PsRow) Size() string {
	rw := units.HumanSizeWithPrecision(float64(r.c.SizeRw), 3)
	if r.c.SizeRootFs > 0 {
		return fmt.Sprintf("%s (virtual %s)", rw, units.HumanSizeWithPrecision(float64(r.c.SizeRootFs), 3))
	}
	return rw
}

// Labels are the container's labels as k=v pairs.
func (r *PsRow) Labels() string {
	var parts []string
	for _, k := range format.SortedKeys(r.c.Labels) {
		parts = append(parts, k+"="+r.c.Labels[k])
	}
	return strings.Join(parts, ",")
}

// Label is the value of one label.
func (r *PsRow) Label(name string) string { return r.c.Labels[name] }

// Mounts are the names (or sources) of the container's mounts.
func (r *PsRow) Mounts() string {
	var names []string
	for _, m := range r.c.Mounts {
		name := m.Name
		if name == "" {
			name = m.Source
		}
		if r.trunc {
			name = format.Ellipsis(name, mountNameWidth)
		}
		names = append(names, name)
	}
	return strings.Join(names, ",")
}

// LocalVolumes is how many local volumes the container mounts.
func (r *PsRow) LocalVolumes() string {
	n := 0
	for _, m := range r.c.Mounts {
		if m.Type == mount.TypeVolume && (m.Driver == "" || m.Driver == "local") {
			n++
		}
	}
	return strconv.Itoa(n)
}

// Networks are the names of the networks the container is connected to.
func (r *PsRow) Networks() string {
	if r.c.NetworkSettings == nil {
		return ""
	}
	return strings.Join(format.SortedKeys(r.c.NetworkSettings.Networks), ",")
}

// Platform is the platform of the container's image, when the daemon says.
func (r *PsRow) Platform() string {
	d := r.c.ImageManifestDescriptor
	if d == nil || d.Platform == nil {
		return ""
	}
	p := d.Platform.OS + "/" + d.Platform.Architecture
	if d.Platform.Variant != "" {
		p += "/" + d.Platform.Variant
	}
	return p
}

// MarshalJSON encodes the row as docker's --format json does: every field as a string.
func (r *PsRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r, "Label") }

// DisplayablePorts renders ports as ps shows them: published ports as
// "0.0.0.0:8080->80/tcp", runs of consecutive ports merged into ranges
// ("0.0.0.0:8000-8002->8000-8002/tcp", "80-81/tcp"), in port order.
func DisplayablePorts(ports []container.PortSummary) string {
	sorted := append([]container.PortSummary(nil), ports...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.PrivatePort != b.PrivatePort {
			return a.PrivatePort < b.PrivatePort
		}
		if a.IP != b.IP {
			return a.IP.Less(b.IP)
		}
		if a.PublicPort != b.PublicPort {
			return a.PublicPort < b.PublicPort
		}
		return a.Type < b.Type
	})

	type run struct {
		ip, proto   string
		first, last uint16
	}
	var (
		out    []string
		mapped []string
		open   = map[string]*run{} // the run still growing, per ip/protocol
		order  []string
	)
	render := func(r *run) string {
		span := strconv.Itoa(int(r.first))
		if r.last != r.first {
			span += "-" + strconv.Itoa(int(r.last))
		}
		if r.ip != "" {
			return net.JoinHostPort(r.ip, span) + "->" + span + "/" + r.proto
		}
		return span + "/" + r.proto
	}
	for _, p := range sorted {
		ip := ""
		if p.IP.IsValid() {
			ip = p.IP.String()
			if p.PublicPort != p.PrivatePort {
				mapped = append(mapped, fmt.Sprintf("%s->%d/%s", net.JoinHostPort(ip, strconv.Itoa(int(p.PublicPort))), p.PrivatePort, p.Type))
				continue
			}
		}
		key := ip + "/" + p.Type
		r := open[key]
		switch {
		case r == nil:
			open[key] = &run{ip: ip, proto: p.Type, first: p.PrivatePort, last: p.PrivatePort}
			order = append(order, key)
		case p.PrivatePort == r.last+1:
			r.last = p.PrivatePort
		default:
			out = append(out, render(r))
			open[key] = &run{ip: ip, proto: p.Type, first: p.PrivatePort, last: p.PrivatePort}
		}
	}
	for _, key := range order {
		out = append(out, render(open[key]))
	}
	return strings.Join(append(out, mapped...), ", ")
}
