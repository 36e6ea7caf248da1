package image

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/opts"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/spf13/cobra"
)

const (
	defaultListFormat           = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	defaultListFormatWithDigest = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	quietListFormat             = "{{.ID}}"

	none = "<none>"
)

// RowHeader returns the column titles of image rows.
func RowHeader() map[string]string {
	return map[string]string{
		"ID":           "IMAGE ID",
		"Repository":   "REPOSITORY",
		"Tag":          "TAG",
		"Digest":       "DIGEST",
		"CreatedSince": "CREATED",
		"CreatedAt":    "CREATED AT",
		"Size":         "SIZE",
		"Containers":   "CONTAINERS",
		"VirtualSize":  "VIRTUAL SIZE",
		"SharedSize":   "SHARED SIZE",
		"UniqueSize":   "UNIQUE SIZE",
	}
}

type listOptions struct {
	matchName string
	all       bool
	quiet     bool
	digests   bool
	noTrunc   bool
	format    string
	filter    *opts.Filter
}

func newListCommand(c *cli.Cli, use string, aliases ...string) *cobra.Command {
	o := listOptions{filter: opts.NewFilter()}
	cmd := &cobra.Command{
		Use:     use + " [OPTIONS] [REPOSITORY[:TAG]]",
		Aliases: aliases,
		Short:   "List images",
		Args:    cli.RequiresMaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.matchName = args[0]
			}
			return runList(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "image ls, image list, images")
	flags := cmd.Flags()
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Only show image IDs")
	flags.BoolVarP(&o.all, "all", "a", false, "Show all images (default hides intermediate images)")
	flags.BoolVar(&o.digests, "digests", false, "Show digests")
	flags.VarP(o.filter, "filter", "f", "Filter output based on conditions provided")
	flags.StringVar(&o.format, "format", "", formatHelp)
	flags.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	return cmd
}

func runList(ctx context.Context, c *cli.Cli, o listOptions) error {
	f := o.filter.Args()
	if o.matchName != "" {
		f.Add("reference", o.matchName)
	}
	images, err := c.Client().ImageList(ctx, f, o.all)
	if err != nil {
		return err
	}
	text := o.format
	if text == "" {
		if cfg := c.ConfigFile().ImagesFormat; cfg != "" && !o.quiet {
			text = cfg
		} else {
			text = format.TableKey
		}
	}
	return format.Write(c.Out(), listFormat(text, o.quiet, o.digests), RowHeader(), Rows(images, !o.noTrunc, o.digests))
}

// listFormat resolves the bare "table" format to the default table (or to IDs only with -q).
func listFormat(text string, quiet, digests bool) format.Format {
	f := format.Format(text)
	if !f.IsBareTable() {
		return f
	}
	switch {
	case quiet:
		return quietListFormat
	case digests:
		return defaultListFormatWithDigest
	default:
		return defaultListFormat
	}
}

// Row is one line of an image listing: an image under one repository and tag (or digest).
type Row struct {
	img    image.Summary
	trunc  bool
	repo   string
	tag    string
	digest string
}

// Rows expands images into listing rows the way docker does: one row per repository:tag, one
// per digest when digests are shown, a <none> row for digest-only repositories, and a
// <none>:<none> row for an untagged image.
func Rows(images []image.Summary, trunc, digests bool) []any {
	var rows []any
	for _, img := range images {
		rows = append(rows, imageRows(img, trunc, digests)...)
	}
	return rows
}

// DiskUsageRows gives one row per image for `system df -v`: the first tag only, or <none>.
func DiskUsageRows(images []image.Summary) []any {
	var rows []any
	for _, img := range images {
		repo, tag := none, none
		if len(img.RepoTags) > 0 {
			if ref, err := reference.ParseNormalizedNamed(img.RepoTags[0]); err == nil {
				if tagged, ok := ref.(reference.NamedTagged); ok {
					repo, tag = reference.FamiliarName(ref), tagged.Tag()
				}
			}
		}
		rows = append(rows, &Row{img: img, trunc: true, repo: repo, tag: tag, digest: none})
	}
	return rows
}

func imageRows(img image.Summary, trunc, showDigests bool) []any {
	var (
		repoOrder []string
		tags      = map[string][]string{}
		digests   = map[string][]string{}
		rows      []any
	)
	seen := map[string]bool{}
	note := func(repo string) {
		if !seen[repo] {
			seen[repo] = true
			repoOrder = append(repoOrder, repo)
		}
	}
	for _, s := range img.RepoTags {
		ref, err := reference.ParseNormalizedNamed(s)
		if err != nil {
			continue
		}
		if tagged, ok := ref.(reference.NamedTagged); ok {
			repo := reference.FamiliarName(ref)
			note(repo)
			tags[repo] = append(tags[repo], tagged.Tag())
		}
	}
	for _, s := range img.RepoDigests {
		ref, err := reference.ParseNormalizedNamed(s)
		if err != nil {
			continue
		}
		if canonical, ok := ref.(reference.Canonical); ok {
			repo := reference.FamiliarName(ref)
			note(repo)
			digests[repo] = append(digests[repo], canonical.Digest().String())
		}
	}
	row := func(repo, tag, digest string) *Row {
		return &Row{img: img, trunc: trunc, repo: repo, tag: tag, digest: digest}
	}
	for _, repo := range repoOrder {
		ts, ds := tags[repo], digests[repo]
		if !showDigests {
			ds = nil
		}
		if len(ts) == 0 {
			// Only digest references: one row, or one per digest when they are shown.
			if len(ds) == 0 {
				rows = append(rows, row(repo, none, none))
			}
			for _, d := range ds {
				rows = append(rows, row(repo, none, d))
			}
			continue
		}
		for _, t := range ts {
			if len(ds) == 0 {
				rows = append(rows, row(repo, t, none))
				continue
			}
			for _, d := range ds {
				rows = append(rows, row(repo, t, d))
			}
		}
	}
	if len(rows) == 0 {
		rows = append(rows, row(none, none, none))
	}
	return rows
}

// ID is the image ID, short unless --no-trunc.
func (r *Row) ID() string {
	if r.trunc {
		return format.ShortID(r.img.ID)
	}
	return r.img.ID
}

// Repository is the familiar repository name or <none>.
func (r *Row) Repository() string { return r.repo }

// Tag is the tag or <none>.
func (r *Row) Tag() string { return r.tag }

// Digest is the repository digest or <none>.
func (r *Row) Digest() string { return r.digest }

// CreatedSince is the image's age in words.
func (r *Row) CreatedSince() string { return format.UnixAgo(r.img.Created) }

// CreatedAt is the creation time.
func (r *Row) CreatedAt() string { return time.Unix(r.img.Created, 0).String() }

// Size is the image's size.
func (r *Row) Size() string { return format.Size(r.img.Size) }

// VirtualSize is the same as Size (kept for old templates).
func (r *Row) VirtualSize() string { return format.DiskSize(r.img.Size) }

// Containers is how many containers use the image, or N/A.
func (r *Row) Containers() string {
	if r.img.Containers == -1 {
		return "N/A"
	}
	return fmt.Sprintf("%d", r.img.Containers)
}

// SharedSize is the size shared with other images, or N/A.
func (r *Row) SharedSize() string {
	if r.img.SharedSize == -1 {
		return "N/A"
	}
	return format.DiskSize(r.img.SharedSize)
}

// UniqueSize is the size only this image uses, or N/A.
func (r *Row) UniqueSize() string {
	if r.img.Size == -1 || r.img.SharedSize == -1 {
		return "N/A"
	}
	return format.DiskSize(r.img.Size - r.img.SharedSize)
}

// Labels are the image's labels as k=v pairs.
func (r *Row) Labels() string { return joinLabels(r.img.Labels) }

// Label is the value of one label.
func (r *Row) Label(name string) string { return r.img.Labels[name] }

// MarshalJSON encodes the row as docker's --format json does: every field as a string.
func (r *Row) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r, "Labels") }

func joinLabels(labels map[string]string) string {
	var b strings.Builder
	for i, k := range format.SortedKeys(labels) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + labels[k])
	}
	return b.String()
}
