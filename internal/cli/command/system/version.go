package system

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/berth-project/berth/api"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/moby/moby/api/types/system"
	"github.com/spf13/cobra"
)

// ClientVersion is the client half of `berth version`.
type ClientVersion struct {
	Version           string
	APIVersion        string `json:"ApiVersion"`
	DefaultAPIVersion string `json:"DefaultAPIVersion,omitempty"`
	GitCommit         string
	GoVersion         string
	Os                string
	Arch              string
	BuildTime         string `json:",omitempty"`
	Context           string
}

// VersionInfo is what --format templates of `berth version` see.
type VersionInfo struct {
	Client ClientVersion
	Server *system.VersionResponse
}

type versionOptions struct {
	format string
}

// NewVersionCommand is `berth version`.
func NewVersionCommand(c *cli.Cli) *cobra.Command {
	var o versionOptions
	cmd := &cobra.Command{
		Use:   "version [OPTIONS]",
		Short: "Show the berth version information",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.Context(), c, o)
		},
	}
	cmd.Flags().StringVarP(&o.format, "format", "f", "", inspectFormatHelp)
	return cmd
}

func runVersion(ctx context.Context, c *cli.Cli, o versionOptions) error {
	var info VersionInfo
	sv, serverErr := c.Client().Version(ctx)
	if serverErr == nil {
		info.Server = &sv
	}
	b := cli.BuildInfo()
	info.Client = ClientVersion{
		Version:           b.Version,
		APIVersion:        c.Client().ClientVersion(),
		DefaultAPIVersion: api.DefaultVersion,
		GitCommit:         b.GitCommit,
		GoVersion:         runtime.Version(),
		Os:                runtime.GOOS,
		Arch:              runtime.GOARCH,
		BuildTime:         buildTime(b.BuildTime),
		Context:           "default",
	}
	var err error
	if o.format != "" {
		err = format.ExecuteOne(c.Out(), o.format, info, nil)
	} else {
		err = WriteVersion(c.Out(), info)
	}
	if serverErr != nil {
		return serverErr
	}
	return err
}

// buildTime turns an RFC 3339 VCS time into docker's "Fri May 30 12:07:14 2025" form.
func buildTime(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Format(time.ANSIC)
	}
	return s
}

// WriteVersion prints info in docker's default `version` layout.
func WriteVersion(out io.Writer, info VersionInfo) error {
	tw := tabwriter.NewWriter(out, 20, 1, 1, ' ', 0)
	cl := info.Client
	fmt.Fprintln(tw, "Client:")
	fmt.Fprintf(tw, " Version:\t%s\n", cl.Version)
	apiLine := cl.APIVersion
	if cl.DefaultAPIVersion != "" && cl.APIVersion != cl.DefaultAPIVersion {
		apiLine += " (downgraded from " + cl.DefaultAPIVersion + ")"
	}
	fmt.Fprintf(tw, " API version:\t%s\n", apiLine)
	fmt.Fprintf(tw, " Go version:\t%s\n", cl.GoVersion)
	fmt.Fprintf(tw, " Git commit:\t%s\n", cl.GitCommit)
	fmt.Fprintf(tw, " Built:\t%s\n", cl.BuildTime)
	fmt.Fprintf(tw, " OS/Arch:\t%s/%s\n", cl.Os, cl.Arch)
	fmt.Fprintf(tw, " Context:\t%s\n", cl.Context)

	if sv := info.Server; sv != nil {
		fmt.Fprintln(tw)
		if sv.Platform.Name != "" {
			fmt.Fprintf(tw, "Server: %s\n", sv.Platform.Name)
		} else {
			fmt.Fprintln(tw, "Server:")
		}
		components := sv.Components
		if !hasComponent(components, "Engine") {
			components = append([]system.ComponentVersion{engineComponent(sv)}, components...)
		}
		for _, comp := range components {
			fmt.Fprintf(tw, " %s:\n", comp.Name)
			if comp.Name == "Engine" {
				d := comp.Details
				fmt.Fprintf(tw, "  Version:\t%s\n", comp.Version)
				fmt.Fprintf(tw, "  API version:\t%s (minimum version %s)\n", d["ApiVersion"], d["MinAPIVersion"])
				fmt.Fprintf(tw, "  Go version:\t%s\n", d["GoVersion"])
				fmt.Fprintf(tw, "  Git commit:\t%s\n", d["GitCommit"])
				fmt.Fprintf(tw, "  Built:\t%s\n", d["BuildTime"])
				fmt.Fprintf(tw, "  OS/Arch:\t%s/%s\n", d["Os"], d["Arch"])
				fmt.Fprintf(tw, "  Experimental:\t%s\n", d["Experimental"])
				continue
			}
			fmt.Fprintf(tw, "  Version:\t%s\n", comp.Version)
			for _, k := range detailOrder(comp.Details) {
				fmt.Fprintf(tw, "  %s:\t%s\n", k, comp.Details[k])
			}
		}
	}
	return tw.Flush()
}

func hasComponent(cs []system.ComponentVersion, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// engineComponent builds the Engine entry from the top-level fields of daemons that list no
// components.
func engineComponent(sv *system.VersionResponse) system.ComponentVersion {
	return system.ComponentVersion{
		Name:    "Engine",
		Version: sv.Version,
		Details: map[string]string{
			"ApiVersion":    sv.APIVersion,
			"MinAPIVersion": sv.MinAPIVersion,
			"GoVersion":     sv.GoVersion,
			"GitCommit":     sv.GitCommit,
			"BuildTime":     sv.BuildTime,
			"Os":            sv.Os,
			"Arch":          sv.Arch,
			"Experimental":  fmt.Sprint(sv.Experimental),
		},
	}
}

// detailOrder lists a component's details with GitCommit first, then the rest sorted.
func detailOrder(d map[string]string) []string {
	keys := make([]string, 0, len(d))
	for k := range d {
		if k != "GitCommit" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := d["GitCommit"]; ok {
		keys = append([]string{"GitCommit"}, keys...)
	}
	return keys
}
