package system

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/command/image"
	volumecmd "github.com/berth-project/berth/internal/cli/command/volume"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"
	"github.com/spf13/cobra"
)

const (
	defaultDiskUsageFormat  = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
	verboseImagesFormat     = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}"
	verboseContainersFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}"
	verboseVolumesFormat    = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
	verboseBuildCacheFormat = "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}"
	containerCommandWidth   = 20
)

type diskUsageOptions struct {
	verbose bool
	format  string
}

func newDiskUsageCommand(c *cli.Cli) *cobra.Command {
	var o diskUsageOptions
	cmd := &cobra.Command{
		Use:   "df [OPTIONS]",
		Short: "Show berth disk usage",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDiskUsage(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.verbose, "verbose", "v", false, "Show detailed information on space usage")
	flags.StringVar(&o.format, "format", "", tableFormatHelp)
	return cmd
}

// diskUsage is the df reply with the container, volume and build cache lists decoded.
type diskUsage struct {
	layersSize int64
	images     []any // image rows
	imageList  []imageUsage
	containers []container.Summary
	volumes    []volume.Volume
	buildCache []build.CacheRecord
}

type imageUsage struct {
	size, shared, containers int64
}

func decodeDiskUsage(du types.DiskUsage) (diskUsage, error) {
	out := diskUsage{layersSize: du.LayersSize}
	for _, img := range du.Images {
		if img == nil {
			continue
		}
		out.imageList = append(out.imageList, imageUsage{size: img.Size, shared: img.SharedSize, containers: img.Containers})
	}
	if err := recode(du.Containers, &out.containers); err != nil {
		return out, err
	}
	if err := recode(du.Volumes, &out.volumes); err != nil {
		return out, err
	}
	if err := recode(du.BuildCache, &out.buildCache); err != nil {
		return out, err
	}
	return out, nil
}

// recode turns generically decoded JSON into a typed value.
func recode(in []any, out any) error {
	if len(in) == 0 {
		return nil
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("error decoding daemon response: %w", err)
	}
	return nil
}

func runDiskUsage(ctx context.Context, c *cli.Cli, o diskUsageOptions) error {
	raw, err := c.Client().DiskUsage(ctx)
	if err != nil {
		return err
	}
	du, err := decodeDiskUsage(raw)
	if err != nil {
		return err
	}
	var summaries []imagetypes.Summary
	for _, img := range raw.Images {
		if img != nil {
			summaries = append(summaries, *img)
		}
	}
	du.images = image.DiskUsageRows(summaries)

	if o.verbose {
		if format.Format(o.format).IsJSON() {
			return writeVerboseJSON(c.Out(), du)
		}
		return writeVerbose(c.Out(), du)
	}
	f := format.Format(o.format)
	if o.format == "" || f.IsBareTable() {
		f = defaultDiskUsageFormat
	}
	return format.Write(c.Out(), f, map[string]string{
		"Type":        "TYPE",
		"TotalCount":  "TOTAL",
		"Active":      "ACTIVE",
		"Size":        "SIZE",
		"Reclaimable": "RECLAIMABLE",
	}, summaryRows(du))
}

// UsageRow is one line of the df summary.
type UsageRow struct {
	kind        string
	total       int
	active      int
	size        string
	reclaimable string
}

func (r *UsageRow) Type() string        { return r.kind }
func (r *UsageRow) TotalCount() string  { return fmt.Sprintf("%d", r.total) }
func (r *UsageRow) Active() string      { return fmt.Sprintf("%d", r.active) }
func (r *UsageRow) Size() string        { return r.size }
func (r *UsageRow) Reclaimable() string { return r.reclaimable }

// MarshalJSON encodes the row as docker's --format json does.
func (r *UsageRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }

func withPercent(reclaimable, total int64) string {
	if total > 0 {
		return fmt.Sprintf("%s (%d%%)", format.DiskSize(reclaimable), reclaimable*100/total)
	}
	return format.DiskSize(reclaimable)
}

func summaryRows(du diskUsage) []any {
	// Images: what running containers use cannot be reclaimed.
	var activeImages int
	var imagesUsed int64
	for _, img := range du.imageList {
		if img.containers > 0 {
			activeImages++
			if img.size != -1 && img.shared != -1 {
				imagesUsed += img.size - img.shared
			}
		}
	}
	images := &UsageRow{
		kind: "Images", total: len(du.imageList), active: activeImages,
		size: format.DiskSize(du.layersSize), reclaimable: withPercent(du.layersSize-imagesUsed, du.layersSize),
	}

	var running int
	var ctrSize, ctrReclaimable int64
	for _, ctr := range du.containers {
		ctrSize += ctr.SizeRw
		if ctr.State == container.StateRunning || ctr.State == container.StatePaused || ctr.State == container.StateRestarting {
			running++
		} else {
			ctrReclaimable += ctr.SizeRw
		}
	}
	containers := &UsageRow{
		kind: "Containers", total: len(du.containers), active: running,
		size: format.DiskSize(ctrSize), reclaimable: withPercent(ctrReclaimable, ctrSize),
	}

	var activeVolumes int
	var volSize, volReclaimable int64
	for _, v := range du.volumes {
		if v.UsageData == nil {
			continue
		}
		if v.UsageData.Size != -1 {
			volSize += v.UsageData.Size
			if v.UsageData.RefCount == 0 {
				volReclaimable += v.UsageData.Size
			}
		}
		if v.UsageData.RefCount > 0 {
			activeVolumes++
		}
	}
	volumes := &UsageRow{
		kind: "Local Volumes", total: len(du.volumes), active: activeVolumes,
		size: format.DiskSize(volSize), reclaimable: withPercent(volReclaimable, volSize),
	}

	var inUse int
	var cacheSize, cacheInUse int64
	for _, bc := range du.buildCache {
		if !bc.Shared {
			cacheSize += bc.Size
		}
		if bc.InUse {
			inUse++
			if !bc.Shared {
				cacheInUse += bc.Size
			}
		}
	}
	cache := &UsageRow{
		kind: "Build Cache", total: len(du.buildCache), active: inUse,
		size: format.DiskSize(cacheSize), reclaimable: format.DiskSize(cacheSize - cacheInUse),
	}
	return []any{images, containers, volumes, cache}
}

func writeVerbose(out io.Writer, du diskUsage) error {
	fmt.Fprint(out, "Images space usage:\n\n")
	if err := format.Write(out, verboseImagesFormat, image.RowHeader(), du.images); err != nil {
		return err
	}
	fmt.Fprint(out, "\nContainers space usage:\n\n")
	if err := format.Write(out, verboseContainersFormat, containerHeader(), containerRows(du.containers)); err != nil {
		return err
	}
	fmt.Fprint(out, "\nLocal Volumes space usage:\n\n")
	if err := format.Write(out, verboseVolumesFormat, volumecmd.RowHeader(), volumecmd.Rows(du.volumes)); err != nil {
		return err
	}
	var cacheSize int64
	for _, bc := range du.buildCache {
		if !bc.Shared {
			cacheSize += bc.Size
		}
	}
	fmt.Fprintf(out, "\nBuild cache usage: %s\n\n", format.DiskSize(cacheSize))
	return format.Write(out, verboseBuildCacheFormat, buildCacheHeader(), buildCacheRows(du.buildCache))
}

func writeVerboseJSON(out io.Writer, du diskUsage) error {
	obj := map[string][]any{
		"Images":     nonNil(du.images),
		"Containers": nonNil(containerRows(du.containers)),
		"Volumes":    nonNil(volumecmd.Rows(du.volumes)),
		"BuildCache": nonNil(buildCacheRows(du.buildCache)),
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(raw))
	return err
}

func nonNil(rows []any) []any {
	if rows == nil {
		return []any{}
	}
	return rows
}

func containerHeader() map[string]string {
	return map[string]string{
		"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "LocalVolumes": "LOCAL VOLUMES",
		"Size": "SIZE", "RunningFor": "CREATED", "Status": "STATUS", "Names": "NAMES",
	}
}

// ContainerUsageRow is one container in `system df -v`.
type ContainerUsageRow struct{ c container.Summary }

func containerRows(cs []container.Summary) []any {
	var rows []any
	for _, c := range cs {
		rows = append(rows, &ContainerUsageRow{c: c})
	}
	return rows
}

func (r *ContainerUsageRow) ID() string { return format.ShortID(r.c.ID) }
func (r *ContainerUsageRow) Image() string {
	img := r.c.Image
	if strings.HasPrefix(img, "sha256:") {
		return format.ShortID(img)
	}
	return img
}
func (r *ContainerUsageRow) Command() string {
	return `"` + format.Ellipsis(r.c.Command, containerCommandWidth) + `"`
}
func (r *ContainerUsageRow) LocalVolumes() string {
	n := 0
	for _, m := range r.c.Mounts {
		if m.Type == "volume" {
			n++
		}
	}
	return fmt.Sprintf("%d", n)
}
func (r *ContainerUsageRow) Size() string {
	s := format.Size(r.c.SizeRw)
	if r.c.SizeRootFs > 0 {
		s += " (virtual " + format.Size(r.c.SizeRootFs) + ")"
	}
	return s
}
func (r *ContainerUsageRow) RunningFor() string { return format.UnixAgo(r.c.Created) }
func (r *ContainerUsageRow) Status() string     { return r.c.Status }
func (r *ContainerUsageRow) Names() string {
	names := make([]string, 0, len(r.c.Names))
	for _, n := range r.c.Names {
		n = strings.TrimPrefix(n, "/")
		if !strings.Contains(n, "/") {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// MarshalJSON encodes the row with every field as a string.
func (r *ContainerUsageRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }

func buildCacheHeader() map[string]string {
	return map[string]string{
		"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE", "CreatedSince": "CREATED",
		"LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED",
	}
}

// BuildCacheRow is one build cache record in `system df -v`.
type BuildCacheRow struct{ r build.CacheRecord }

func buildCacheRows(rs []build.CacheRecord) []any {
	var rows []any
	for _, r := range rs {
		rows = append(rows, &BuildCacheRow{r: r})
	}
	return rows
}

func (b *BuildCacheRow) ID() string {
	id := b.r.ID
	if b.r.InUse {
		id += "*"
	}
	return id
}
func (b *BuildCacheRow) CacheType() string    { return b.r.Type }
func (b *BuildCacheRow) Size() string         { return format.DiskSize(b.r.Size) }
func (b *BuildCacheRow) CreatedSince() string { return format.Ago(b.r.CreatedAt) }
func (b *BuildCacheRow) LastUsedSince() string {
	if b.r.LastUsedAt == nil {
		return ""
	}
	return format.Ago(*b.r.LastUsedAt)
}
func (b *BuildCacheRow) UsageCount() string { return fmt.Sprintf("%d", b.r.UsageCount) }
func (b *BuildCacheRow) Shared() string     { return fmt.Sprintf("%t", b.r.Shared) }

// MarshalJSON encodes the row with every field as a string.
func (b *BuildCacheRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(b) }
