package compose

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/compose"
	"github.com/spf13/cobra"
)

func newConfigCommand(c *cli.Cli, po *projectOptions) *cobra.Command {
	var (
		services, volumes, networks, images, quiet bool
		formatText, output                         string
	)
	cmd := &cobra.Command{
		Use:     "config [OPTIONS] [SERVICE...]",
		Aliases: []string{"convert"},
		Short:   "Parse, resolve and render compose file in canonical format",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := po.load(cmd.Context(), c, false)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				if p, err = p.WithSelectedServices(args); err != nil {
					return err
				}
			}
			var lines []string
			switch {
			case quiet:
				return nil
			case services:
				lines = p.ServiceNames()
			case volumes:
				lines = p.VolumeNames()
			case networks:
				lines = p.NetworkNames()
			case images:
				for _, n := range p.ServiceNames() {
					lines = append(lines, compose.ImageName(p.Name, p.Services[n]))
				}
			}
			if lines != nil {
				sort.Strings(lines)
				_, err := fmt.Fprintln(c.Out(), strings.Join(lines, "\n"))
				return err
			}
			var b []byte
			if formatText == "json" {
				b, err = p.MarshalJSON()
			} else {
				b, err = p.MarshalYAML()
			}
			if err != nil {
				return err
			}
			if output != "" {
				return os.WriteFile(output, b, 0o644)
			}
			_, err = c.Out().Write(b)
			return err
		},
	}
	flags := cmd.Flags()
	flags.BoolVar(&services, "services", false, "Print the service names, one per line")
	flags.BoolVar(&volumes, "volumes", false, "Print the volume names, one per line")
	flags.BoolVar(&networks, "networks", false, "Print the network names, one per line")
	flags.BoolVar(&images, "images", false, "Print the image names, one per line")
	flags.BoolVarP(&quiet, "quiet", "q", false, "Only validate the configuration, don't print anything")
	flags.StringVar(&formatText, "format", "yaml", "Format the output. Values: [yaml | json]")
	flags.StringVarP(&output, "output", "o", "", "Save to file (default to stdout)")
	return cmd
}

func newLsCommand(c *cli.Cli) *cobra.Command {
	var all, quiet bool
	var formatText string
	cmd := &cobra.Command{
		Use:   "ls [OPTIONS]",
		Short: "List running compose projects",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := filters.Args{}
			f.Add("label", compose.LabelProject)
			list, err := c.Client().ContainerList(cmd.Context(), client.ListOptions{All: all, Filters: f})
			if err != nil {
				return err
			}
			type project struct {
				Name        string
				states      map[string]int
				ConfigFiles string
			}
			projects := map[string]*project{}
			for _, ctr := range list {
				name := ctr.Labels[compose.LabelProject]
				p := projects[name]
				if p == nil {
					p = &project{Name: name, states: map[string]int{}, ConfigFiles: ctr.Labels[compose.LabelConfigFiles]}
					projects[name] = p
				}
				p.states[string(ctr.State)]++
			}
			tw := format.NewTableWriter(c.Out())
			if !quiet && formatText != "json" {
				fmt.Fprintln(tw, "NAME\tSTATUS\tCONFIG FILES")
			}
			var rows []map[string]string
			for _, name := range format.SortedKeys(projects) {
				p := projects[name]
				var st []string
				for _, s := range format.SortedKeys(p.states) {
					st = append(st, fmt.Sprintf("%s(%d)", s, p.states[s]))
				}
				status := strings.Join(st, ", ")
				switch {
				case quiet:
					fmt.Fprintln(tw, name)
				case formatText == "json":
					rows = append(rows, map[string]string{"Name": name, "Status": status, "ConfigFiles": p.ConfigFiles})
				default:
					fmt.Fprintf(tw, "%s\t%s\t%s\n", name, status, p.ConfigFiles)
				}
			}
			if formatText == "json" {
				return format.ExecuteOne(c.Out(), "json", rows, nil)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Show all stopped Compose projects")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display project names")
	cmd.Flags().StringVar(&formatText, "format", "table", `Format the output. Values: [table | json]`)
	return cmd
}

func newVersionCommand(c *cli.Cli) *cobra.Command {
	var short bool
	cmd := &cobra.Command{
		Use:   "version [OPTIONS]",
		Short: "Show the berth compose version information",
		Args:  cli.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := cli.BuildInfo().Version
			if short {
				_, err := fmt.Fprintln(c.Out(), v)
				return err
			}
			_, err := fmt.Fprintf(c.Out(), "berth compose version %s\n", v)
			return err
		},
	}
	cmd.Flags().BoolVar(&short, "short", false, "Shows only Compose's version number")
	return cmd
}
