package dockerfile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

func mustParse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for name, tc := range map[string]struct {
		src, want string
		line      int
	}{
		"empty":               {src: "", want: "cannot be empty"},
		"comments only":       {src: "# only a comment\n", want: "no instructions", line: 1},
		"only ARGs":           {src: "ARG A=1\n", want: "no image was generated"},
		"unknown instruction": {src: "FROM busybox\nFROB x\n", want: "unknown instruction", line: 2},
		"no FROM first":       {src: "RUN true\n", want: "no build stage", line: 1},
		"bad flag":            {src: "FROM busybox\nCOPY --nope=1 a b\n", want: "unknown flag", line: 2},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *dockerfile.Error", err, err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if tc.line > 0 {
				if de.Line != tc.line || !strings.Contains(err.Error(), ">>> ") || !strings.Contains(err.Error(), fmt.Sprintf("Dockerfile:%d\n", tc.line)) {
					t.Errorf("error not tied to line %d:\n%s", tc.line, err)
				}
			}
		})
	}
}

func TestStagesTargetAndDeps(t *testing.T) {
	f := mustParse(t, `FROM busybox AS Base
RUN true
FROM busybox AS tools
FROM base AS app
COPY --from=tools /bin/sh /x
RUN --mount=type=bind,from=0,target=/m true
COPY --from=other-image:1 /a /b
FROM app
`)
	if len(f.Stages) != 4 {
		t.Fatalf("%d stages", len(f.Stages))
	}
	if i, err := f.Target(""); err != nil || i != 3 {
		t.Errorf("default target %d %v, want the last stage", i, err)
	}
	if i, err := f.Target("TOOLS"); err != nil || i != 1 {
		t.Errorf("target by name (any case) %d %v", i, err)
	}
	if _, err := f.Target("missing"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("unknown target: %v", err)
	}
	if got := f.Deps(2, "base"); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("deps of app: %v, want base, tools (from=0 is base again, the image ref is no stage)", got)
	}
	if got := f.Deps(3, "app"); !slices.Equal(got, []int{2}) {
		t.Errorf("deps of the last stage: %v", got)
	}
	// A stage only sees earlier ones: "app" named in stage 1 would be an image.
	if _, ok := f.StageIndex("app", 1); ok {
		t.Error("StageIndex found a later stage")
	}
	if i, ok := f.StageIndex("1", 3); !ok || i != 1 {
		t.Errorf("StageIndex by number: %d %v", i, ok)
	}
}

func TestArgsScoping(t *testing.T) {
	f := mustParse(t, `ARG BASE=busy
ARG TAG=${BASE}box
ARG UNSET
FROM ${TAG}
ARG TAG
ARG LOCAL=x-$TAG
ARG VERSION
ENV LOCAL=from-env
RUN true
`)
	a, err := NewArgs(f, map[string]string{"VERSION": "2", "HTTP_PROXY": "http://p", "EXTRA": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Meta().Get("TAG"); v != "busybox" {
		t.Errorf("global TAG = %q", v)
	}
	if _, ok := a.Meta().Get("UNSET"); ok {
		t.Error("a global ARG without a value got one")
	}
	if v, _ := a.Meta().Get("TARGETARCH"); v != Architecture {
		t.Errorf("TARGETARCH = %q", v)
	}
	sc := a.Stage()
	lex := shell.NewLex(f.Escape)
	var env []string
	for _, c := range f.Stages[0].Commands {
		switch c := c.(type) {
		case *instructions.ArgCommand:
			if err := sc.Declare(c, lex, env); err != nil {
				t.Fatal(err)
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env = SetEnv(env, kv.Key, kv.Value)
			}
		}
	}
	if v, _ := sc.Env(env).Get("LOCAL"); v != "from-env" {
		t.Errorf("ENV does not win over ARG: LOCAL=%q", v)
	}
	vars, hidden := sc.RunVars(env)
	want := []string{"HTTP_PROXY=http://p", "TAG=busybox", "VERSION=2"}
	if !slices.Equal(vars, want) {
		t.Errorf("RUN vars %v, want %v (LOCAL is ENV's, the proxy arg reaches RUN)", vars, want)
	}
	if !hidden["HTTP_PROXY=http://p"] || hidden["VERSION=2"] {
		t.Errorf("hidden from history: %v", hidden)
	}
	if got := a.Unused(); !slices.Equal(got, []string{"EXTRA"}) {
		t.Errorf("unused build args %v", got)
	}
}

func TestEnvAndHistoryText(t *testing.T) {
	env := SetEnv(SetEnv([]string{"A=1", "B=2"}, "A", "3"), "C", "4")
	if !slices.Equal(env, []string{"A=3", "B=2", "C=4"}) {
		t.Errorf("SetEnv: %v (a replaced key keeps its place)", env)
	}
	if v, _ := (Env{"K=1", "K=2"}).Get("K"); v != "2" {
		t.Errorf("later entries win: %q", v)
	}
	if got := Nop(DefaultShell, `CMD ["sh"]`); got != `/bin/sh -c #(nop)  CMD ["sh"]` {
		t.Errorf("Nop: %q", got)
	}
	if got := NopCopy(DefaultShell, "COPY file:abc in / "); got != "/bin/sh -c #(nop) COPY file:abc in / " {
		t.Errorf("NopCopy: %q", got)
	}
	if got := Run([]string{"/bin/sh", "-c", "make"}, []string{"V=1", "W=2"}); got != "|2 V=1 W=2 /bin/sh -c make" {
		t.Errorf("Run with args: %q", got)
	}
	if got := Run([]string{"make"}, nil); got != "make" {
		t.Errorf("Run: %q", got)
	}
}
