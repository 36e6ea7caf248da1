package dockerfile

import (
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// proxyArgs may be given with --build-arg without an ARG; like docker, they reach RUN but are
// left out of the history.
var proxyArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true, "NO_PROXY": true, "no_proxy": true, "ALL_PROXY": true, "all_proxy": true,
}

// Platform is the only platform berth builds for.
const (
	OS           = "linux"
	Architecture = "amd64"
	Platform     = OS + "/" + Architecture
)

// Args resolves build arguments across a build: the user's --build-arg values, the global ARGs
// before the first FROM (with the predefined platform ARGs), and which names something used.
type Args struct {
	given map[string]string
	meta  Env
	used  map[string]bool
}

// NewArgs evaluates the global ARGs of f with the user's values.
func NewArgs(f *File, given map[string]string) (*Args, error) {
	a := &Args{given: given, used: map[string]bool{}}
	for _, kv := range [][2]string{
		{"TARGETPLATFORM", Platform}, {"TARGETOS", OS}, {"TARGETARCH", Architecture}, {"TARGETVARIANT", ""},
		{"BUILDPLATFORM", Platform}, {"BUILDOS", OS}, {"BUILDARCH", Architecture}, {"BUILDVARIANT", ""},
	} {
		a.meta = append(a.meta, kv[0]+"="+kv[1])
	}
	lex := shell.NewLex(f.Escape)
	for _, cmd := range f.MetaArgs {
		for _, kv := range cmd.Args {
			v, ok := given[kv.Key]
			if ok {
				a.used[kv.Key] = true
			} else if kv.Value != nil {
				s, _, err := lex.ProcessWord(*kv.Value, a.meta)
				if err != nil {
					return nil, f.Wrap(err, cmd.Location()[0].Start.Line)
				}
				v, ok = s, true
			}
			if ok {
				a.meta = append(a.meta, kv.Key+"="+v)
			}
		}
	}
	return a, nil
}

// Meta is the environment FROM lines expand in.
func (a *Args) Meta() Env { return a.meta }

// Scope is the set of ARGs declared in one stage so far, in declaration order.
type Scope struct {
	args *Args
	vars Env
}

// Stage starts the ARG scope of a new stage.
func (a *Args) Stage() *Scope { return &Scope{args: a} }

// Declare handles one ARG instruction's names; env is the stage's environment for expanding
// defaults.
func (s *Scope) Declare(cmd *instructions.ArgCommand, lex *shell.Lex, env []string) error {
	for _, kv := range cmd.Args {
		v, ok := s.args.given[kv.Key]
		if ok {
			s.args.used[kv.Key] = true
		} else if kv.Value != nil {
			w, _, err := lex.ProcessWord(*kv.Value, s.Env(env))
			if err != nil {
				return err
			}
			v, ok = w, true
		} else {
			v, ok = s.args.meta.Get(kv.Key)
		}
		if ok {
			s.vars = append(s.vars, kv.Key+"="+v)
		} else {
			s.vars = append(s.vars, kv.Key)
		}
	}
	return nil
}

// Env is the environment instructions expand in: the stage's ARGs with values, then its ENV
// (which wins over an ARG of the same name).
func (s *Scope) Env(env []string) Env {
	out := make(Env, 0, len(s.vars)+len(env))
	for _, kv := range s.vars {
		if strings.Contains(kv, "=") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// RunVars are the KEY=value build arguments a RUN sees beyond the stage's ENV, sorted: declared
// ARGs with values that ENV does not override, and proxy arguments the user gave. hidden
// reports, per entry, whether it stays out of the history (an undeclared proxy argument).
func (s *Scope) RunVars(env []string) (vars []string, hidden map[string]bool) {
	inEnv := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		inEnv[k] = true
	}
	seen := map[string]bool{}
	for i := len(s.vars) - 1; i >= 0; i-- {
		k, _, ok := strings.Cut(s.vars[i], "=")
		if ok && !inEnv[k] && !seen[k] {
			seen[k] = true
			vars = append(vars, s.vars[i])
		}
	}
	hidden = map[string]bool{}
	for k, v := range s.args.given {
		if proxyArgs[k] && !seen[k] && !inEnv[k] {
			s.args.used[k] = true
			kv := k + "=" + v
			vars = append(vars, kv)
			hidden[kv] = true
		}
	}
	sort.Strings(vars)
	return vars, hidden
}

// Unused lists the --build-arg names no ARG consumed, sorted, as docker warns about them.
func (a *Args) Unused() []string {
	var out []string
	for k := range a.given {
		if !a.used[k] && !proxyArgs[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
