package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/command/container"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/compose"
	mcontainer "github.com/moby/moby/api/types/container"
	"github.com/spf13/cobra"
)

const defaultPsFormat = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"

// psRow is a row of compose ps: the container row of `berth ps` plus compose's columns.
type psRow struct {
	*container.PsRow
	c mcontainer.Summary
}

func (r psRow) Name() string    { return compose.Name(r.c) }
func (r psRow) Service() string { return r.c.Labels[compose.LabelService] }
func (r psRow) Project() string { return r.c.Labels[compose.LabelProject] }

// MarshalJSON is docker compose's ps --format json object.
func (r psRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"ID": r.c.ID, "Name": r.Name(), "Image": r.c.Image, "Command": r.PsRow.Command(),
		"Project": r.Project(), "Service": r.Service(), "Created": r.c.Created,
		"State": r.c.State, "Status": r.c.Status, "Health": health(r.c), "Labels": r.PsRow.Labels(),
		"Ports": r.PsRow.Ports(), "Publishers": r.c.Ports,
	})
}

func health(c mcontainer.Summary) string {
	if c.Health == nil {
		return ""
	}
	return string(c.Health.Status)
}

func newPsCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var (
		all, quiet, services bool
		formatText           string
		status               []string
	)
	cmd := &cobra.Command{
		Use:   "ps [OPTIONS] [SERVICE...]",
		Short: "List containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := po.load(cmd.Context(), c, true)
			if err != nil {
				return err
			}
			list, err := engine(c).Containers(cmd.Context(), p.Name, all || len(status) > 0, compose.OneoffInclude, args...)
			if err != nil {
				return err
			}
			list = withStatus(list, status)
			return printPs(cmd.Context(), c, list, quiet, services, formatText)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&all, "all", "a", false, "Show all stopped containers (including those created by the run command)")
	flags.BoolVarP(&quiet, "quiet", "q", false, "Only display IDs")
	flags.BoolVar(&services, "services", false, "Display services")
	flags.StringVar(&formatText, "format", "table", "Format output using a custom template: 'table', 'json' or a Go template")
	flags.StringArrayVar(&status, "status", nil, "Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]")
	return cmd
}

func withStatus(list []mcontainer.Summary, status []string) []mcontainer.Summary {
	if len(status) == 0 {
		return list
	}
	var out []mcontainer.Summary
	for _, ctr := range list {
		for _, s := range status {
			if string(ctr.State) == s {
				out = append(out, ctr)
			}
		}
	}
	return out
}

func printPs(_ context.Context, c *cli.Cli, list []mcontainer.Summary, quiet, services bool, formatText string) error {
	switch {
	case quiet:
		for _, ctr := range list {
			fmt.Fprintln(c.Out(), ctr.ID)
		}
		return nil
	case services:
		seen := map[string]bool{}
		var names []string
		for _, ctr := range list {
			if s := ctr.Labels[compose.LabelService]; !seen[s] {
				seen[s] = true
				names = append(names, s)
			}
		}
		sort.Strings(names)
		for _, s := range names {
			fmt.Fprintln(c.Out(), s)
		}
		return nil
	}
	f := format.Format(formatText)
	if formatText == "table" {
		f = defaultPsFormat
	}
	rows := make([]any, 0, len(list))
	for i, r := range container.PsRows(list, true) {
		rows = append(rows, psRow{PsRow: r.(*container.PsRow), c: list[i]})
	}
	header := container.PsHeader()
	header["Name"], header["Service"], header["Project"] = "NAME", "SERVICE", "PROJECT"
	header["RunningFor"] = "CREATED"
	if strings.TrimSpace(formatText) == "json" {
		f = "{{json .}}"
	}
	return format.Write(c.Out(), f, header, rows)
}
