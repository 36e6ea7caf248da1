package system

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/command/container"
	"github.com/berth-project/berth/internal/cli/command/image"
	"github.com/berth-project/berth/internal/cli/command/network"
	"github.com/berth-project/berth/internal/cli/inspect"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/spf13/cobra"
)

// objectTypeNames are the values --type accepts, as docker lists them.
func objectTypeNames() []string {
	return []string{"config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume"}
}

// inspector fetches one kind of object for `berth inspect`; size asks for sizes where the kind
// has them (containers).
type inspector struct {
	kind string
	get  func(ctx context.Context, c *cli.Cli, ref string, size bool) (any, []byte, error)
}

// inspectors lists the object kinds berth can inspect, in the order a bare reference is tried.
// The volume inspector joins this list when that command arrives.
func inspectors() []inspector {
	return []inspector{
		{kind: "container", get: container.Get},
		{kind: "image", get: func(ctx context.Context, c *cli.Cli, ref string, _ bool) (any, []byte, error) {
			return image.Get(ctx, c, ref)
		}},
		{kind: "network", get: func(ctx context.Context, c *cli.Cli, ref string, _ bool) (any, []byte, error) {
			return network.Get(ctx, c, ref, false)
		}},
	}
}

type inspectOptions struct {
	refs   []string
	format string
	kind   string
	size   bool
}

// NewInspectCommand is `berth inspect`.
func NewInspectCommand(c *cli.Cli) *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Return low-level information on berth objects",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.refs = args
			return runInspect(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&o.format, "format", "f", "", inspectFormatHelp)
	flags.StringVar(&o.kind, "type", "", "Only inspect objects of the given type")
	flags.BoolVarP(&o.size, "size", "s", false, "Display total file sizes if the type is container")
	return cmd
}

func runInspect(ctx context.Context, c *cli.Cli, o inspectOptions) error {
	candidates, err := selectInspectors(o.kind)
	if err != nil {
		return err
	}
	return inspect.Print(c.Out(), o.refs, o.format, func(ref string) (any, []byte, error) {
		for _, in := range candidates {
			obj, raw, err := in.get(ctx, c, ref, o.size)
			if err == nil {
				return obj, raw, nil
			}
			// Only "not found" moves on to the next kind; anything else is the answer.
			if !errdefs.IsNotFound(err) {
				return nil, nil, err
			}
			if o.kind != "" {
				return nil, nil, err
			}
		}
		return nil, nil, fmt.Errorf("Error: No such object: %s", ref)
	})
}

func selectInspectors(kind string) ([]inspector, error) {
	all := inspectors()
	if kind == "" {
		return all, nil
	}
	names := objectTypeNames()
	known := false
	for _, n := range names {
		if n == kind {
			known = true
		}
	}
	if !known {
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = fmt.Sprintf("%q", n)
		}
		return nil, fmt.Errorf("unknown type: %q: must be one of %s", kind, strings.Join(quoted, ", "))
	}
	for _, in := range all {
		if in.kind == kind {
			return []inspector{in}, nil
		}
	}
	return nil, fmt.Errorf("berth inspect does not support --type %s yet", kind)
}
