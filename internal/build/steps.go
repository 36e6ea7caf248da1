package build

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/build/dockerfile"
	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
)

func sortStrings(s []string) { sort.Strings(s) }

func digestOf(s string) digest.Digest { return digest.Digest(s) }

// expandable is an instruction whose words take ARG and ENV values.
type expandable interface {
	Expand(expander instructions.SingleWordExpander) error
}

// dispatch runs one instruction and reports whether it came from the cache.
func (b *builder) dispatch(ctx context.Context, st *state, cmd instructions.Command) (bool, error) {
	if e, ok := cmd.(expandable); ok {
		if _, isArg := cmd.(*instructions.ArgCommand); !isArg {
			if err := e.Expand(dockerfile.Expander(st.lex, st.env())); err != nil {
				return false, err
			}
		}
	}
	nop := func(text string, apply func(*image.Config)) (bool, error) {
		return b.commit(ctx, st, dockerfile.Nop(st.shell(), text), "", apply, nil)
	}
	switch c := cmd.(type) {
	case *instructions.EnvCommand:
		text := "ENV"
		for _, kv := range c.Env {
			text += " " + kv.Key + "=" + kv.Value
		}
		return nop(text, func(cfg *image.Config) {
			for _, kv := range c.Env {
				cfg.Config.Env = dockerfile.SetEnv(cfg.Config.Env, kv.Key, kv.Value)
			}
		})
	case *instructions.MaintainerCommand:
		return nop("MAINTAINER "+c.Maintainer, func(cfg *image.Config) { cfg.Author = c.Maintainer })
	case *instructions.LabelCommand:
		text := "LABEL"
		for _, kv := range c.Labels {
			text += " " + kv.Key + "=" + kv.Value
		}
		return nop(text, func(cfg *image.Config) {
			if cfg.Config.Labels == nil {
				cfg.Config.Labels = map[string]string{}
			}
			for _, kv := range c.Labels {
				cfg.Config.Labels[kv.Key] = kv.Value
			}
		})
	case *instructions.ExposeCommand:
		var ports []string
		for _, p := range c.Ports {
			w, _, err := st.lex.ProcessWord(p, st.env())
			if err != nil {
				return false, err
			}
			ps, err := ExposedPorts(w)
			if err != nil {
				return false, err
			}
			ports = append(ports, ps...)
		}
		return nop("EXPOSE "+strings.Join(ports, " "), func(cfg *image.Config) {
			if cfg.Config.ExposedPorts == nil {
				cfg.Config.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range ports {
				cfg.Config.ExposedPorts[p] = struct{}{}
			}
		})
	case *instructions.CmdCommand:
		argv := b.argv(st, c.ShellDependantCmdLine)
		st.cmdSet = true
		return nop("CMD "+dockerfile.Quoted(argv), func(cfg *image.Config) { cfg.Config.Cmd = argv })
	case *instructions.EntrypointCommand:
		argv := b.argv(st, c.ShellDependantCmdLine)
		return nop("ENTRYPOINT "+dockerfile.Quoted(argv), func(cfg *image.Config) {
			cfg.Config.Entrypoint = argv
			if !st.cmdSet {
				cfg.Config.Cmd = nil // an inherited CMD does not outlive a new ENTRYPOINT
			}
		})
	case *instructions.UserCommand:
		return nop("USER "+c.User, func(cfg *image.Config) { cfg.Config.User = c.User })
	case *instructions.VolumeCommand:
		for _, v := range c.Volumes {
			if strings.TrimSpace(v) == "" {
				return false, errdefs.InvalidArgumentf("VOLUME specified can not be an empty string")
			}
		}
		return nop(fmt.Sprintf("VOLUME %v", c.Volumes), func(cfg *image.Config) {
			if cfg.Config.Volumes == nil {
				cfg.Config.Volumes = map[string]struct{}{}
			}
			for _, v := range c.Volumes {
				cfg.Config.Volumes[v] = struct{}{}
			}
		})
	case *instructions.StopSignalCommand:
		if _, err := container.ParseSignal(c.Signal, 0); err != nil {
			return false, err
		}
		return nop("STOPSIGNAL "+c.Signal, func(cfg *image.Config) { cfg.Config.StopSignal = c.Signal })
	case *instructions.HealthCheckCommand:
		if h := st.cfg.Config.Healthcheck; h != nil && len(h.Test) > 0 && h.Test[0] != "NONE" {
			st.out.Line(fmt.Sprintf("Note: overriding previous HEALTHCHECK: %v", h.Test))
		}
		return nop(dockerfile.Healthcheck(c.Health), func(cfg *image.Config) { cfg.Config.Healthcheck = c.Health })
	case *instructions.ShellCommand:
		return nop("SHELL "+dockerfile.Quoted(c.Shell), func(cfg *image.Config) { cfg.Config.Shell = c.Shell })
	case *instructions.OnbuildCommand:
		expr := strings.TrimSpace(c.Expression)
		switch w := strings.ToUpper(strings.Fields(expr + " x")[0]); w {
		case "ONBUILD", "FROM", "MAINTAINER":
			return false, errdefs.InvalidArgumentf("%s isn't allowed as an ONBUILD trigger", w)
		}
		return nop("ONBUILD "+expr, func(cfg *image.Config) { cfg.Config.OnBuild = append(cfg.Config.OnBuild, expr) })
	case *instructions.ArgCommand:
		if err := st.scope.Declare(c, st.lex, st.cfg.Config.Env); err != nil {
			return false, err
		}
		text := "ARG"
		for _, kv := range c.Args {
			text += " " + kv.String()
		}
		return nop(text, nil)
	case *instructions.WorkdirCommand:
		return b.workdir(ctx, st, c)
	case *instructions.RunCommand:
		return b.runStep(ctx, st, c)
	case *instructions.CopyCommand:
		return b.copyStep(ctx, st, copySpec{name: "COPY", sd: c.SourcesAndDest, from: c.From, chown: c.Chown, chmod: c.Chmod, exclude: c.ExcludePatterns})
	case *instructions.AddCommand:
		return b.copyStep(ctx, st, copySpec{name: "ADD", sd: c.SourcesAndDest, chown: c.Chown, chmod: c.Chmod, exclude: c.ExcludePatterns, add: true, checksum: c.Checksum, unpack: c.Unpack})
	}
	return false, errdefs.NotImplementedf("%s is not supported by berth's builder", strings.ToUpper(cmd.Name()))
}

// argv is the command of CMD, ENTRYPOINT or RUN: the shell prepended in shell form.
func (b *builder) argv(st *state, c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell {
		return append([]string{}, c.CmdLine...)
	}
	return append(append([]string{}, st.shell()...), strings.Join(c.CmdLine, " "))
}

// ExposedPorts reads an EXPOSE word: port, port/proto or a range low-high[/proto], into
// "port/proto" keys.
func ExposedPorts(spec string) ([]string, error) {
	portPart, proto, _ := strings.Cut(spec, "/")
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, errdefs.InvalidArgumentf("invalid proto: %s", proto)
	}
	lo, hi, isRange := strings.Cut(portPart, "-")
	start, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid containerPort: %s", portPart)
	}
	end := start
	if isRange {
		if end, err = strconv.ParseUint(hi, 10, 16); err != nil || end < start {
			return nil, errdefs.InvalidArgumentf("invalid containerPort: %s", portPart)
		}
	}
	var out []string
	for p := start; p <= end; p++ {
		out = append(out, fmt.Sprintf("%d/%s", p, proto))
	}
	return out, nil
}

// workdir sets WORKDIR, adding a layer that creates it when the image lacks it.
func (b *builder) workdir(ctx context.Context, st *state, c *instructions.WorkdirCommand) (bool, error) {
	dir := c.Path
	if !path.IsAbs(dir) {
		dir = path.Join("/", st.cfg.Config.WorkingDir, dir)
	}
	dir = path.Clean(dir)
	apply := func(cfg *image.Config) { cfg.Config.WorkingDir = dir }
	text := dockerfile.Nop(st.shell(), "WORKDIR "+dir)
	if dir == "/" || b.exists(st, dir) {
		return b.commit(ctx, st, text, "", apply, nil)
	}
	return b.commit(ctx, st, text, "mkdir", apply, b.mkdirLayer(st, dir))
}
