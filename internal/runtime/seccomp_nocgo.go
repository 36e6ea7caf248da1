//go:build !cgo

package runtime

import specs "github.com/opencontainers/runtime-spec/specs-go"

// precompileSeccomp needs libseccomp through cgo; without it crun compiles profiles itself.
func precompileSeccomp(*specs.Spec) {}
