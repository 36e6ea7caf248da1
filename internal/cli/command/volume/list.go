package volume

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/volume"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/opts"
)

const (
	defaultListFormat = "table {{.Driver}}\t{{.Name}}"
	quietListFormat   = "{{.Name}}"
)

// formatHelp is the --format usage text, as docker words it.
const formatHelp = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`

type listOptions struct {
	quiet  bool
	format string
	filter *opts.Filter
}

func newListCommand(c *cli.Cli) *cobra.Command {
	o := listOptions{filter: opts.NewFilter()}
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runList(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Only display volume names")
	flags.StringVar(&o.format, "format", "", formatHelp)
	flags.VarP(o.filter, "filter", "f", `Provide filter values (e.g. "dangling=true")`)
	return cmd
}

func runList(ctx context.Context, c *cli.Cli, o listOptions) error {
	resp, err := c.Client().VolumeList(ctx, o.filter.Args())
	if err != nil {
		return err
	}
	sort.Slice(resp.Volumes, func(i, j int) bool { return resp.Volumes[i].Name < resp.Volumes[j].Name })
	text := o.format
	if text == "" {
		if cfg := c.ConfigFile().VolumesFormat; cfg != "" && !o.quiet {
			text = cfg
		} else {
			text = format.TableKey
		}
	}
	f := format.Format(text)
	if f.IsBareTable() {
		f = defaultListFormat
		if o.quiet {
			f = quietListFormat
		}
	}
	return format.Write(c.Out(), f, RowHeader(), Rows(resp.Volumes))
}

// Rows makes one row per volume, for `volume ls` and `system df -v`.
func Rows(vs []volume.Volume) []any {
	rows := make([]any, 0, len(vs))
	for _, v := range vs {
		rows = append(rows, &Row{v: v})
	}
	return rows
}

// RowHeader returns the column titles of volume rows.
func RowHeader() map[string]string {
	return map[string]string{
		"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
		"Labels": "LABELS", "Links": "LINKS", "Size": "SIZE", "CreatedAt": "CREATED AT",
	}
}

// Row is one line of `volume ls`; its methods are the fields templates can name.
type Row struct{ v volume.Volume }

// Name is the volume's name.
func (r *Row) Name() string { return r.v.Name }

// Driver is the volume's driver.
func (r *Row) Driver() string { return r.v.Driver }

// Scope is local or global.
func (r *Row) Scope() string { return r.v.Scope }

// Mountpoint is where the volume's data lives on the daemon's host.
func (r *Row) Mountpoint() string { return r.v.Mountpoint }

// CreatedAt is the creation time as the daemon reported it.
func (r *Row) CreatedAt() string { return r.v.CreatedAt }

// Labels lists the labels as k=v, comma separated.
func (r *Row) Labels() string {
	var out []string
	for _, k := range format.SortedKeys(r.v.Labels) {
		out = append(out, k+"="+r.v.Labels[k])
	}
	return strings.Join(out, ",")
}

// Label is the value of one label.
func (r *Row) Label(name string) string { return r.v.Labels[name] }

// Links is the number of containers using the volume, when the daemon computed it.
func (r *Row) Links() string {
	if r.v.UsageData == nil || r.v.UsageData.RefCount < 0 {
		return "N/A"
	}
	return strconv.FormatInt(r.v.UsageData.RefCount, 10)
}

// Size is the volume's size, when the daemon computed it.
func (r *Row) Size() string {
	if r.v.UsageData == nil || r.v.UsageData.Size < 0 {
		return "N/A"
	}
	return format.DiskSize(r.v.UsageData.Size)
}

// MarshalJSON renders the row for --format json.
func (r *Row) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }
