//go:build cgo

package runtime

import (
	"errors"
	"testing"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func dockerProfile(t *testing.T) *specs.LinuxSeccomp {
	t.Helper()
	p, err := seccomp.GetDefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompileSeccompDockerProfile(t *testing.T) {
	a, err := compileSeccomp(dockerProfile(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 8*100 || len(a)%8 != 0 {
		t.Fatalf("BPF program of %d bytes: not a sock_filter array of a real profile", len(a))
	}
	b, _ := compileSeccomp(dockerProfile(t))
	if string(a) != string(b) {
		t.Fatal("the same profile compiled to different programs")
	}
}

func TestPrecompileOnlyWhatLibseccompTakes(t *testing.T) {
	spec := &specs.Spec{Linux: &specs.Linux{Seccomp: dockerProfile(t)}}
	precompileSeccomp(spec)
	if spec.Annotations[crunSeccompAnnotation] == "" {
		t.Fatal("docker's profile was not precompiled")
	}
	withFlags := &specs.Spec{Linux: &specs.Linux{Seccomp: dockerProfile(t)}}
	withFlags.Linux.Seccomp.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}
	if _, err := compileSeccomp(withFlags.Linux.Seccomp); !errors.Is(err, errUnsupportedProfile) {
		t.Fatalf("a profile with seccomp(2) flags: %v", err)
	}
	precompileSeccomp(withFlags)
	if _, ok := withFlags.Annotations[crunSeccompAnnotation]; ok {
		t.Fatal("a profile crun must compile itself was precompiled")
	}
	precompileSeccomp(&specs.Spec{}) // no seccomp section: nothing to do, no panic
}
