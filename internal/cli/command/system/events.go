package system

import (
	"fmt"
	"io"
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
	if ts := m.TimeNano; ts != 0 || m.Time != 0 {
		if ts == 0 {
			ts = m.Time * int64(time.Second)
		}
		b.WriteString(time.Unix(0, ts).Format("2006-01-02T15:04:05.000000000Z07:00") + " ")
	}
	fmt.Fprintf(&b, "%s %s %s", m.Type, m.Action, m.Actor.ID)
	if len(m.Actor.Attributes) > 0 {
		var attrs []string
		for _, k := range format.SortedKeys(m.Actor.Attributes) {
			attrs = append(attrs, k+"="+m.Actor.Attributes[k])
		}
		b.WriteString(" (" + strings.Join(attrs, ", ") + ")")
	}
	b.WriteByte('\n')
	_, err := io.WriteString(out, b.String())
	return err
}
