package image

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/moby/moby/api/types/image"
	"github.com/spf13/cobra"
)

const (
	defaultHistoryFormat = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
	quietHistoryFormat   = "{{.ID}}"
	// createdByWidth is how much of a CREATED BY command a truncated history shows.
	createdByWidth = 45
)

type historyOptions struct {
	image   string
	human   bool
	quiet   bool
	noTrunc bool
	format  string
}

func newHistoryCommand(c *cli.Cli, use string) *cobra.Command {
	var o historyOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] IMAGE",
		Short: "Show the history of an image",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.image = args[0]
			return runHistory(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "image history, history")
	flags := cmd.Flags()
	flags.BoolVarP(&o.human, "human", "H", true, "Print sizes and dates in human readable format")
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Only show image IDs")
	flags.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	flags.StringVar(&o.format, "format", "", formatHelp)
	return cmd
}

func runHistory(ctx context.Context, c *cli.Cli, o historyOptions) error {
	items, err := c.Client().ImageHistory(ctx, o.image)
	if err != nil {
		return err
	}
	f := format.Format(o.format)
	if o.format == "" || f.IsBareTable() {
		f = defaultHistoryFormat
		if o.quiet {
			f = quietHistoryFormat
		}
	}
	rows := make([]any, 0, len(items))
	for _, h := range items {
		rows = append(rows, &HistoryRow{h: h, trunc: !o.noTrunc, human: o.human})
	}
	return format.Write(c.Out(), f, historyHeader(o.human), rows)
}

func historyHeader(human bool) map[string]string {
	since := "CREATED"
	if !human {
		// Without -H the column holds timestamps, and docker titles it so.
		since = "CREATED AT"
	}
	return map[string]string{
		"ID":           "IMAGE",
		"CreatedSince": since,
		"CreatedAt":    "CREATED AT",
		"CreatedBy":    "CREATED BY",
		"Size":         "SIZE",
		"Comment":      "COMMENT",
	}
}

// HistoryRow is one layer of an image's history.
type HistoryRow struct {
	h     image.HistoryResponseItem
	trunc bool
	human bool
}

// ID is the layer's image ID (or <missing>), short unless --no-trunc.
func (r *HistoryRow) ID() string {
	if r.trunc {
		return format.ShortID(r.h.ID)
	}
	return r.h.ID
}

// CreatedSince is the age in words with -H, else an RFC 3339 time.
func (r *HistoryRow) CreatedSince() string {
	if !r.human {
		return r.CreatedAt()
	}
	return format.UnixAgo(r.h.Created)
}

// CreatedAt is the creation time in RFC 3339.
func (r *HistoryRow) CreatedAt() string {
	return time.Unix(r.h.Created, 0).Format(time.RFC3339)
}

// CreatedBy is the command that made the layer, cut to 45 characters unless --no-trunc.
func (r *HistoryRow) CreatedBy() string {
	by := strings.ReplaceAll(r.h.CreatedBy, "\t", " ")
	if r.trunc {
		return format.Ellipsis(by, createdByWidth)
	}
	return by
}

// Size is the layer size, in words with -H, else in bytes.
func (r *HistoryRow) Size() string {
	if r.human {
		return format.Size(r.h.Size)
	}
	return strconv.FormatInt(r.h.Size, 10)
}

// Comment is the layer's comment.
func (r *HistoryRow) Comment() string { return r.h.Comment }

// Tags are the layer's tags, comma separated.
func (r *HistoryRow) Tags() string { return strings.Join(r.h.Tags, ", ") }

// MarshalJSON encodes the row as docker's --format json does.
func (r *HistoryRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r, "Tags") }
