package oci

import (
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// allCapabilities lists every capability up to CAP_CHECKPOINT_RESTORE (40),
// in kernel order. --privileged gets all of them; runc and crun skip any the
// running kernel does not know, so a static list is safe.
var allCapabilities = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// DefaultCapabilities returns docker's default capability set, in docker's
// order (a fresh slice each call).
func DefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
		"CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
		"CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
		"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
}

const capAll = "ALL"

// normalizeCaps upper-cases names and adds the CAP_ prefix, as docker
// accepts "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" alike.
func normalizeCaps(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, c := range in {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == capAll {
			out = append(out, capAll)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !slices.Contains(allCapabilities[:], c) {
			return nil, errdefs.InvalidArgumentf("unknown capability: %q", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// Capabilities applies --cap-add/--cap-drop/--privileged to docker's
// default set with docker's precedence: privileged wins, then add ALL
// (minus drops), then drop ALL (only the adds remain), then drop-then-add.
// "All" means every capability known here; CapabilitiesWithin narrows it to
// what the daemon itself holds.
func Capabilities(add, drop []string, privileged bool) ([]string, error) {
	return CapabilitiesWithin(add, drop, privileged, nil)
}

// CapabilitiesWithin is Capabilities with "all" (for --privileged and
// --cap-add ALL) limited to bounding, the daemon's own bounding set (nil:
// no limit). A process cannot hand out a capability it lacks, and asking
// for one makes the runtime fail with "unable to apply caps".
func CapabilitiesWithin(add, drop []string, privileged bool, bounding []string) ([]string, error) {
	adds, err := normalizeCaps(add)
	if err != nil {
		return nil, err
	}
	drops, err := normalizeCaps(drop)
	if err != nil {
		return nil, err
	}
	all := make([]string, 0, len(allCapabilities))
	for _, c := range allCapabilities {
		if bounding == nil || slices.Contains(bounding, c) {
			all = append(all, c)
		}
	}
	if privileged {
		return all, nil
	}
	var caps []string
	push := func(c string) {
		if c != capAll && !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	switch {
	case slices.Contains(adds, capAll):
		for _, c := range all {
			if !slices.Contains(drops, c) {
				push(c)
			}
		}
	case slices.Contains(drops, capAll):
		for _, c := range adds {
			push(c)
		}
	default:
		for _, c := range DefaultCapabilities() {
			if !slices.Contains(drops, c) {
				push(c)
			}
		}
		for _, c := range adds {
			push(c)
		}
	}
	return caps, nil
}
