package network

import (
	"os/exec"
	"strings"
)

// hostForward keeps berth's bridges working on a host whose own FORWARD chain drops by policy
// (as it is after dockerd has run with iptables, or on a hardened host). berth's nftables table
// accepting a packet is not enough then: every table's verdict counts, so the host's DROP still
// wins, even for traffic between two containers on one bridge when br_netfilter is loaded. The
// exceptions go into the host's chain through the iptables command itself, so iptables keeps
// understanding its own table; nothing is added when the policy accepts.
type hostForward struct {
	iptables string          // "" when the host has no iptables
	opened   map[string]bool // bridges whose exceptions are in place
}

func newHostForward() *hostForward {
	p, _ := exec.LookPath("iptables")
	return &hostForward{iptables: p, opened: map[string]bool{}}
}

// forwardRules are the exceptions for one bridge: everything from its containers, and replies
// and published-port (DNAT) traffic to them, never new connections from outside.
func forwardRules(bridge string) [][]string {
	tag := []string{"-m", "comment", "--comment", "berth " + bridge}
	return [][]string{
		append([]string{"FORWARD", "-i", bridge, "-j", "ACCEPT"}, tag...),
		append([]string{"FORWARD", "-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "ACCEPT"}, tag...),
	}
}

// dropsByPolicy reports whether the host's filter FORWARD chain has policy DROP.
func (h *hostForward) dropsByPolicy() bool {
	if h.iptables == "" {
		return false
	}
	out, err := exec.Command(h.iptables, "-w", "-S", "FORWARD").Output()
	return err == nil && strings.Contains(string(out), "-P FORWARD DROP")
}

// open inserts the exceptions for bridge when the host drops forwarded traffic by default and
// they are not there yet.
func (h *hostForward) open(bridge string) error {
	if h.opened[bridge] || !h.dropsByPolicy() {
		return nil
	}
	for _, r := range forwardRules(bridge) {
		if exec.Command(h.iptables, append([]string{"-w", "-C"}, r...)...).Run() == nil {
			continue
		}
		if out, err := exec.Command(h.iptables, append([]string{"-w", "-I"}, r...)...).CombinedOutput(); err != nil {
			return &iptablesError{args: r, out: strings.TrimSpace(string(out)), err: err}
		}
	}
	h.opened[bridge] = true
	return nil
}

// close removes bridge's exceptions, if berth put them there.
func (h *hostForward) close(bridge string) {
	if !h.opened[bridge] {
		return
	}
	delete(h.opened, bridge)
	for _, r := range forwardRules(bridge) {
		for exec.Command(h.iptables, append([]string{"-w", "-D"}, r...)...).Run() == nil {
		}
	}
}

type iptablesError struct {
	args []string
	out  string
	err  error
}

func (e *iptablesError) Error() string {
	return "iptables -I " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.out
}
