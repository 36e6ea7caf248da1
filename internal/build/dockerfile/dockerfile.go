// Package dockerfile turns a Dockerfile into stages of typed instructions with BuildKit's parser,
// and holds the pure rules the builder applies to them: which stages a target needs, build-argument
// scoping, variable expansion, and the history strings docker's classic builder records. It knows
// nothing of images or containers.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// File is a parsed Dockerfile.
type File struct {
	Stages   []instructions.Stage
	MetaArgs []instructions.ArgCommand // ARGs before the first FROM
	Escape   rune
	lines    []string
}

// Parse parses src. Errors carry the line they are about (see Error).
func Parse(src []byte) (*File, error) {
	if len(src) == 0 {
		return nil, &Error{Err: errors.New("the Dockerfile (Dockerfile) cannot be empty")}
	}
	f := &File{lines: strings.Split(string(src), "\n")}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, f.Wrap(err, 0)
	}
	f.Escape = res.EscapeToken
	f.Stages, f.MetaArgs, err = instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, f.Wrap(err, 0)
	}
	if len(f.Stages) == 0 { // only ARGs: docker's classic builder words it so
		return nil, &Error{Err: errors.New("No image was generated. Is your Dockerfile empty?")}
	}
	return f, nil
}

// Error is a build failure tied to a Dockerfile line; its message shows that line.
type Error struct {
	Line    int // 1-based; 0 when unknown
	Excerpt string
	Err     error
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s\nDockerfile:%d\n%s", e.Err, e.Line, e.Excerpt)
}

func (e *Error) Unwrap() error { return e.Err }

// Wrap ties err to the line BuildKit recorded in it, else to line; an error already wrapped is
// returned as it is.
func (f *File) Wrap(err error, line int) error {
	var de *Error
	if err == nil || errors.As(err, &de) {
		return err
	}
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		line = le.Locations[0][0].Start.Line
	}
	if line == 0 {
		return &Error{Err: err}
	}
	return &Error{Line: line, Excerpt: f.excerpt(line), Err: err}
}

// excerpt shows line with the one before it, docker-style.
func (f *File) excerpt(line int) string {
	var b strings.Builder
	b.WriteString("--------------------\n")
	for n := max(1, line-1); n <= line && n <= len(f.lines); n++ {
		mark := "    "
		if n == line {
			mark = ">>> "
		}
		fmt.Fprintf(&b, "%4d | %s%s\n", n, mark, strings.TrimRight(f.lines[n-1], "\r"))
	}
	b.WriteString("--------------------")
	return b.String()
}

// StageIndex finds a stage by name (case-insensitive) or index among the first before.
func (f *File) StageIndex(ref string, before int) (int, bool) {
	for i := 0; i < before && i < len(f.Stages); i++ {
		if f.Stages[i].Name != "" && strings.EqualFold(f.Stages[i].Name, ref) {
			return i, true
		}
	}
	if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < before {
		return n, true
	}
	return 0, false
}

// Target returns the index of the stage a build of target ends with (the last when empty).
func (f *File) Target(target string) (int, error) {
	if target == "" {
		return len(f.Stages) - 1, nil
	}
	for i, s := range f.Stages {
		if strings.EqualFold(s.Name, target) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("failed to reach build target %s in Dockerfile", target)
}

// Deps returns the earlier stages stage i reads from: its base, COPY --from and RUN
// --mount from= sources that name a stage. expand resolves ARGs in a FROM name.
func (f *File) Deps(i int, baseName string) []int {
	seen := map[int]bool{}
	var out []int
	add := func(ref string) {
		if j, ok := f.StageIndex(ref, i); ok && !seen[j] {
			seen[j] = true
			out = append(out, j)
		}
	}
	add(baseName)
	for _, c := range f.Stages[i].Commands {
		switch c := c.(type) {
		case *instructions.CopyCommand:
			if c.From != "" {
				add(c.From)
			}
		case *instructions.RunCommand:
			for _, m := range instructions.GetMounts(c) {
				if m.From != "" {
					add(m.From)
				}
			}
		}
	}
	return out
}

// Env is a variable environment for expansion: KEY=value entries, later ones winning.
type Env []string

// Get implements shell.EnvGetter.
func (e Env) Get(key string) (string, bool) {
	for i := len(e) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(e[i], "="); k == key {
			return v, true
		}
	}
	return "", false
}

// Keys implements shell.EnvGetter.
func (e Env) Keys() []string {
	var keys []string
	seen := map[string]bool{}
	for _, kv := range e {
		k, _, _ := strings.Cut(kv, "=")
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// Expander returns the word expander instructions' Expand methods take.
func Expander(lex *shell.Lex, env Env) instructions.SingleWordExpander {
	return func(word string) (string, error) {
		s, _, err := lex.ProcessWord(word, env)
		return s, err
	}
}

// SetEnv sets key in a KEY=value list, replacing an earlier value in place as docker does.
func SetEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			out := append([]string{}, env...)
			out[i] = key + "=" + value
			return out
		}
	}
	return append(append([]string{}, env...), key+"="+value)
}
