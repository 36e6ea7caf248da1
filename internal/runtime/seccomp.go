//go:build cgo

package runtime

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	seccomp "github.com/seccomp/libseccomp-golang"
)

// crun compiles a container's seccomp profile with libseccomp on every start, about 25 ms of
// its 45 ms here for docker's default profile. It also takes the finished BPF program in the
// annotation below, so berthd compiles each distinct profile once, with the same libseccomp, and
// hands crun the result. runc has no such input.
const crunSeccompAnnotation = "run.oci.seccomp_bpf_data"

var bpfCache sync.Map // sha256 of the profile's JSON -> base64 BPF, or "" when it cannot be precompiled

// precompileSeccomp adds the compiled profile to a crun spec; a profile libseccomp cannot take
// as a whole is left for crun to compile itself.
func precompileSeccomp(spec *specs.Spec) {
	if spec.Linux == nil || spec.Linux.Seccomp == nil {
		return
	}
	raw, err := json.Marshal(spec.Linux.Seccomp)
	if err != nil {
		return
	}
	key := sha256.Sum256(raw)
	v, ok := bpfCache.Load(key)
	if !ok {
		prog, err := compileSeccomp(spec.Linux.Seccomp)
		if err != nil {
			prog = nil
		}
		v, _ = bpfCache.LoadOrStore(key, base64.StdEncoding.EncodeToString(prog))
	}
	if data := v.(string); data != "" {
		if spec.Annotations == nil {
			spec.Annotations = map[string]string{}
		}
		spec.Annotations[crunSeccompAnnotation] = data
	}
}

var errUnsupportedProfile = errors.New("seccomp profile needs the runtime's own compiler")

// compileSeccomp builds the BPF program of an OCI seccomp profile the way crun does: the
// default action, the extra architectures, one rule per syscall name with its argument
// conditions; names libseccomp does not know are skipped. Notify listeners and seccomp(2) flags
// are left to the runtime.
func compileSeccomp(p *specs.LinuxSeccomp) ([]byte, error) {
	if p.ListenerPath != "" || len(p.Flags) > 0 {
		return nil, errUnsupportedProfile
	}
	def, err := seccompAction(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	f, err := seccomp.NewFilter(def)
	if err != nil {
		return nil, err
	}
	defer f.Release()
	// crun sets no_new_privs itself when the spec asks for it.
	if err := f.SetNoNewPrivsBit(false); err != nil {
		return nil, err
	}
	for _, a := range p.Architectures {
		arch, err := seccompArch(a)
		if err != nil {
			return nil, err
		}
		if err := f.AddArch(arch); err != nil {
			return nil, err
		}
	}
	for _, r := range p.Syscalls {
		action, err := seccompAction(r.Action, r.ErrnoRet)
		if err != nil {
			return nil, err
		}
		var conds []seccomp.ScmpCondition
		for _, a := range r.Args {
			op, ok := seccompOps[a.Op]
			if !ok {
				return nil, fmt.Errorf("seccomp operator %q: %w", a.Op, errUnsupportedProfile)
			}
			c, err := seccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
			if err != nil {
				return nil, err
			}
			conds = append(conds, c)
		}
		for _, name := range r.Names {
			sc, err := seccomp.GetSyscallFromName(name)
			if err != nil {
				continue // not a syscall of these architectures
			}
			if len(conds) == 0 {
				err = f.AddRule(sc, action)
			} else {
				err = f.AddRuleConditional(sc, action, conds)
			}
			if err != nil {
				return nil, fmt.Errorf("seccomp rule for %s: %w", name, err)
			}
		}
	}
	tmp, err := os.CreateTemp("", "berth-seccomp-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := f.ExportBPF(tmp); err != nil {
		return nil, err
	}
	return os.ReadFile(tmp.Name())
}

func seccompAction(a specs.LinuxSeccompAction, errno *uint) (seccomp.ScmpAction, error) {
	switch a {
	case specs.ActAllow:
		return seccomp.ActAllow, nil
	case specs.ActErrno:
		code := uint(1) // EPERM, as runc and crun default it
		if errno != nil {
			code = *errno
		}
		return seccomp.ActErrno.SetReturnCode(int16(code)), nil
	case specs.ActKill, specs.ActKillThread:
		return seccomp.ActKillThread, nil
	case specs.ActKillProcess:
		return seccomp.ActKillProcess, nil
	case specs.ActTrap:
		return seccomp.ActTrap, nil
	case specs.ActLog:
		return seccomp.ActLog, nil
	case specs.ActTrace:
		code := uint(1)
		if errno != nil {
			code = *errno
		}
		return seccomp.ActTrace.SetReturnCode(int16(code)), nil
	}
	return seccomp.ActInvalid, fmt.Errorf("seccomp action %q: %w", a, errUnsupportedProfile)
}

var seccompOps = map[specs.LinuxSeccompOperator]seccomp.ScmpCompareOp{
	specs.OpEqualTo: seccomp.CompareEqual, specs.OpNotEqual: seccomp.CompareNotEqual,
	specs.OpLessThan: seccomp.CompareLess, specs.OpLessEqual: seccomp.CompareLessOrEqual,
	specs.OpGreaterThan: seccomp.CompareGreater, specs.OpGreaterEqual: seccomp.CompareGreaterEqual,
	specs.OpMaskedEqual: seccomp.CompareMaskedEqual,
}

func seccompArch(a specs.Arch) (seccomp.ScmpArch, error) {
	names := map[specs.Arch]string{
		specs.ArchX86_64: "amd64", specs.ArchX86: "x86", specs.ArchX32: "x32",
		specs.ArchAARCH64: "arm64", specs.ArchARM: "arm", specs.ArchPPC64LE: "ppc64le", specs.ArchS390X: "s390x",
		specs.ArchRISCV64: "riscv64",
	}
	n, ok := names[a]
	if !ok {
		return seccomp.ArchInvalid, fmt.Errorf("seccomp architecture %q: %w", a, errUnsupportedProfile)
	}
	return seccomp.GetArchFromString(n)
}
