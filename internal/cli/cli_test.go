package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/spf13/cobra"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestResolveHostPrecedence(t *testing.T) {
	both := env(map[string]string{"BERTH_HOST": "unix:///berth.sock", "DOCKER_HOST": "tcp://docker:2375"})
	cases := []struct {
		name  string
		flags []string
		env   func(string) string
		want  string
	}{
		{"flag wins", []string{"unix:///flag.sock"}, both, "unix:///flag.sock"},
		{"BERTH_HOST before DOCKER_HOST", nil, both, "unix:///berth.sock"},
		{"DOCKER_HOST", nil, env(map[string]string{"DOCKER_HOST": "tcp://docker:2375"}), "tcp://docker:2375"},
		{"default", nil, env(nil), client.DefaultHost},
		{"blank env ignored", nil, env(map[string]string{"BERTH_HOST": " ", "DOCKER_HOST": "unix:///d.sock"}), "unix:///d.sock"},
	}
	for _, tc := range cases {
		got, err := ResolveHost(tc.flags, tc.env)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := ResolveHost([]string{"a", "b"}, env(nil)); err == nil || err.Error() != "Specify only one -H" {
		t.Errorf("two -H: %v", err)
	}
	if _, err := ResolveHost([]string{"ssh://x"}, env(nil)); err == nil {
		t.Error("ssh:// must be refused")
	}
}

func TestErrorText(t *testing.T) {
	se := errdefs.As(errdefs.NotFound, &client.ServerError{StatusCode: 404, Message: "No such image: x:latest"})
	if got := ErrorText(se); got != "Error response from daemon: No such image: x:latest" {
		t.Errorf("got %q", got)
	}
	wrapped := fmt.Errorf("failed to save: %w", se)
	if got := ErrorText(wrapped); got != "failed to save: Error response from daemon: No such image: x:latest" {
		t.Errorf("wrapped: got %q", got)
	}
	if got := ErrorText(errors.New("plain")); got != "plain" {
		t.Errorf("plain: got %q", got)
	}
	ce := &client.ConnectionError{Host: client.DefaultHost}
	if got := ErrorText(ce); !strings.HasPrefix(got, "Cannot connect to the berth daemon at unix:///run/berth/berth.sock") {
		t.Errorf("connection: got %q", got)
	}
}

func newTree() (*cobra.Command, *cobra.Command) {
	root := &cobra.Command{Use: "berth [OPTIONS] COMMAND [ARG...]", DisableFlagsInUseLine: true}
	sub := &cobra.Command{Use: "tag SOURCE TARGET", DisableFlagsInUseLine: true}
	root.AddCommand(sub)
	return root, sub
}

func TestArgValidators(t *testing.T) {
	_, sub := newTree()
	err := ExactArgs(2)(sub, []string{"a"})
	want := "berth: 'berth tag' requires 2 arguments\n\nUsage:  berth tag SOURCE TARGET\n\nRun 'berth tag --help' for more information"
	if err == nil || err.Error() != want {
		t.Errorf("ExactArgs:\n%v\nwant:\n%s", err, want)
	}
	if ExactArgs(2)(sub, []string{"a", "b"}) != nil {
		t.Error("ExactArgs(2) with 2")
	}
	err = RequiresMinArgs(1)(sub, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "berth: 'berth tag' requires at least 1 argument\n") {
		t.Errorf("RequiresMinArgs: %v", err)
	}
	err = RequiresMaxArgs(1)(sub, []string{"a", "b"})
	if err == nil || !strings.HasPrefix(err.Error(), "berth: 'berth tag' requires at most 1 argument\n") {
		t.Errorf("RequiresMaxArgs: %v", err)
	}
	err = NoArgs(sub, []string{"x"})
	if err == nil || !strings.HasPrefix(err.Error(), "berth: 'berth tag' accepts no arguments") {
		t.Errorf("NoArgs: %v", err)
	}
	root, _ := newTree()
	err = NoArgs(root, []string{"nosuch"})
	if err == nil || !strings.HasPrefix(err.Error(), "berth: unknown command: berth nosuch") {
		t.Errorf("NoArgs on a group: %v", err)
	}
}

func TestFlagErrorFunc(t *testing.T) {
	_, sub := newTree()
	err := FlagErrorFunc(sub, errors.New("unknown flag: --x"))
	var se StatusError
	if !errors.As(err, &se) || se.StatusCode != 125 {
		t.Fatalf("want StatusError 125, got %#v", err)
	}
	want := "unknown flag: --x\n\nUsage:  berth tag SOURCE TARGET\n\nRun 'berth tag --help' for more information"
	if se.Status != want {
		t.Errorf("got %q, want %q", se.Status, want)
	}
}

func TestParseLogLevel(t *testing.T) {
	for _, ok := range []string{"debug", "info", "warn", "error", "fatal", "INFO"} {
		if _, err := ParseLogLevel(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if _, err := ParseLogLevel("loud"); err == nil || err.Error() != "Unable to parse logging level: loud" {
		t.Errorf("loud: %v", err)
	}
}
