package network

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/opts"
)

const (
	defaultListFormat = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
	quietListFormat   = "{{.ID}}"
)

type listOptions struct {
	quiet   bool
	noTrunc bool
	format  string
	filter  *opts.Filter
}

func newListCommand(c *cli.Cli) *cobra.Command {
	o := listOptions{filter: opts.NewFilter()}
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runList(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Only display network IDs")
	flags.BoolVar(&o.noTrunc, "no-trunc", false, "Do not truncate the output")
	flags.StringVar(&o.format, "format", "", format.TableHelp)
	flags.VarP(o.filter, "filter", "f", `Provide filter values (e.g. "driver=bridge")`)
	return cmd
}

func runList(ctx context.Context, c *cli.Cli, o listOptions) error {
	nets, err := c.Client().NetworkList(ctx, o.filter.Args())
	if err != nil {
		return err
	}
	sort.Slice(nets, func(i, j int) bool { return format.NaturalLess(nets[i].Name, nets[j].Name) })
	f := format.Format(format.ListText(o.format, c.ConfigFile().NetworksFormat, o.quiet))
	if f.IsBareTable() {
		f = defaultListFormat
		if o.quiet {
			f = quietListFormat
		}
	}
	rows := make([]any, 0, len(nets))
	for _, n := range nets {
		rows = append(rows, &row{n: n, trunc: !o.noTrunc})
	}
	return format.Write(c.Out(), f, map[string]string{
		"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv4": "IPV4", "IPv6": "IPV6",
		"Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT",
	}, rows)
}

// row is one line of `network ls`; its methods are the fields templates can name.
type row struct {
	n     network.Summary
	trunc bool
}

// ID is the network's ID, 12 characters unless --no-trunc.
func (r *row) ID() string {
	if r.trunc {
		return format.ShortID(r.n.ID)
	}
	return r.n.ID
}

// Name is the network's name.
func (r *row) Name() string { return r.n.Name }

// Driver is the network's driver.
func (r *row) Driver() string { return r.n.Driver }

// Scope is local, global or swarm.
func (r *row) Scope() string { return r.n.Scope }

// IPv4 tells whether IPv4 is enabled.
func (r *row) IPv4() string { return strconv.FormatBool(r.n.EnableIPv4) }

// IPv6 tells whether IPv6 is enabled.
func (r *row) IPv6() string { return strconv.FormatBool(r.n.EnableIPv6) }

// Internal tells whether the network has no route out.
func (r *row) Internal() string { return strconv.FormatBool(r.n.Internal) }

// CreatedAt is the creation time as Go prints it, as docker's table does.
func (r *row) CreatedAt() string { return r.n.Created.String() }

// Labels lists the labels as k=v, comma separated.
func (r *row) Labels() string {
	out := make([]string, 0, len(r.n.Labels))
	for _, k := range format.SortedKeys(r.n.Labels) {
		out = append(out, k+"="+r.n.Labels[k])
	}
	return strings.Join(out, ",")
}

// Label is the value of one label.
func (r *row) Label(name string) string { return r.n.Labels[name] }

// MarshalJSON renders the row for --format json.
func (r *row) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }
