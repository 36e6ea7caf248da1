package system

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/cli/opts"
)

// NewEventsCommand is `berth events` (and `berth system events`): the daemon's events, live or
// between --since and --until.
func NewEventsCommand(c *cli.Cli) *cobra.Command {
	var o client.EventsOptions
	var tmpl string
	filter := opts.NewFilter()
	cmd := &cobra.Command{
		Use:   "events [OPTIONS]",
		Short: "Get real time events from the server",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Filters = filter.Args()
			return c.Client().Events(cmd.Context(), o, func(m events.Message) error {
				if tmpl != "" {
					return format.ExecuteOne(c.Out(), tmpl, m, nil)
				}
				return printEvent(c.Out(), m)
			})
		},
	}
	flags := cmd.Flags()
	flags.VarP(filter, "filter", "f", "Filter output based on conditions provided")
	flags.StringVar(&tmpl, "format", "", inspectFormatHelp)
	flags.StringVar(&o.Since, "since", "", "Show all events created since timestamp")
	flags.StringVar(&o.Until, "until", "", "Stream events until this timestamp")
	return cmd
}

// printEvent writes docker's line for an event: time, type, action, actor and its attributes.
func printEvent(out io.Writer, m events.Message) error {
	var b strings.Builder
	switch {
	case m.TimeNano != 0:
		b.WriteString(time.Unix(0, m.TimeNano).Format("2006-01-02T15:04:05.000000000Z07:00") + " ")
	case m.Time != 0:
		b.WriteString(time.Unix(m.Time, 0).Format("2006-01-02T15:04:05.000000000Z07:00") + " ")
	}
	fmt.Fprintf(&b, "%s %s %s", m.Type, m.Action, m.Actor.ID)
	if len(m.Actor.Attributes) > 0 {
		keys := make([]string, 0, len(m.Actor.Attributes))
		for k := range m.Actor.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := make([]string, len(keys))
		for i, k := range keys {
			attrs[i] = k + "=" + m.Actor.Attributes[k]
		}
		b.WriteString(" (" + strings.Join(attrs, ", ") + ")")
	}
	b.WriteByte('\n')
	_, err := io.WriteString(out, b.String())
	return err
}
