package opts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateEnv checks one -e value. A bare NAME takes the value it has in the CLI's environment,
// and stays a bare NAME (unset in the container) when the CLI has none.
func ValidateEnv(v string) (string, error) {
	k, _, hasValue := strings.Cut(v, "=")
	if k == "" {
		return "", fmt.Errorf("invalid environment variable: %s", v)
	}
	if hasValue {
		return v, nil
	}
	if val, ok := os.LookupEnv(k); ok {
		return k + "=" + val, nil
	}
	return v, nil
}

// ValidateLabel checks one -l value, key[=value].
func ValidateLabel(v string) (string, error) {
	k, _, _ := strings.Cut(v, "=")
	if strings.TrimSpace(k) == "" {
		return "", fmt.Errorf("invalid label '%s': empty name", v)
	}
	return v, nil
}

// ValidateIPAddress checks an IP address and returns it in canonical form.
func ValidateIPAddress(v string) (string, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil || a.Zone() != "" {
		return "", fmt.Errorf("IP address is not correctly formatted: %s", v)
	}
	return a.String(), nil
}

// HostGateway stands for the host's address in --add-host.
const HostGateway = "host-gateway"

// ValidateExtraHost checks one --add-host value, host:ip or host=ip (an IPv6 address may be in
// brackets), and returns it as the API wants it, host:ip.
func ValidateExtraHost(v string) (string, error) {
	host, addr, ok := strings.Cut(v, "=")
	if !ok {
		host, addr, ok = strings.Cut(v, ":")
	}
	if !ok || host == "" || strings.Contains(host, ":") {
		return "", fmt.Errorf("bad format for add-host: %q", v)
	}
	if addr != HostGateway {
		if len(addr) > 2 && addr[0] == '[' && addr[len(addr)-1] == ']' {
			addr = addr[1 : len(addr)-1]
		}
		if _, err := ValidateIPAddress(addr); err != nil {
			return "", fmt.Errorf("invalid IP address in add-host: %q", addr)
		}
	}
	return host + ":" + addr, nil
}

var domainPattern = regexp.MustCompile(`^(:?(([a-zA-Z0-9])|([a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9]))(:?\.(([a-zA-Z0-9])|([a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])))*)\.?\s*$`)

// ValidateDNSSearch checks one --dns-search domain ("." clears the search list).
func ValidateDNSSearch(v string) (string, error) {
	if v = strings.Trim(v, " "); v == "." {
		return v, nil
	}
	if len(v) > 255 || !domainPattern.MatchString(v) {
		return "", fmt.Errorf("%s is not a valid domain", v)
	}
	return v, nil
}

// ValidateAttach checks one -a value and returns it in lower case.
func ValidateAttach(v string) (string, error) {
	switch s := strings.ToLower(v); s {
	case "stdin", "stdout", "stderr":
		return s, nil
	}
	return "", errors.New("valid streams are STDIN, STDOUT and STDERR")
}

func validDeviceMode(mode string) bool {
	if mode == "" || len(mode) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, r := range mode {
		if !strings.ContainsRune("rwm", r) || seen[r] {
			return false
		}
		seen[r] = true
	}
	return true
}

// ValidateDevice checks one --device value, host-path[:container-path][:mode].
func ValidateDevice(v string) (string, error) {
	parts := strings.Split(v, ":")
	if len(parts) > 3 || parts[0] == "" {
		return "", fmt.Errorf("bad format for path: %s", v)
	}
	if len(parts) == 3 && !validDeviceMode(parts[2]) {
		return "", fmt.Errorf("bad mode specified: %s", parts[2])
	}
	if len(parts) >= 2 && !validDeviceMode(parts[1]) && !path.IsAbs(parts[1]) {
		return "", fmt.Errorf("bad format for path: %s", parts[1])
	}
	if !path.IsAbs(parts[0]) {
		return "", fmt.Errorf("bad format for path: %s", parts[0])
	}
	return v, nil
}

// IsValidDeviceMode reports whether mode is a device cgroup mode made of r, w and m.
func IsValidDeviceMode(mode string) bool { return validDeviceMode(mode) }

var cgroupRulePattern = regexp.MustCompile(`^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$`)

// ValidateDeviceCgroupRule checks one --device-cgroup-rule, e.g. "c 1:3 mr".
func ValidateDeviceCgroupRule(v string) (string, error) {
	if cgroupRulePattern.MatchString(v) {
		return v, nil
	}
	return "", fmt.Errorf("invalid device cgroup format '%s'", v)
}

// namespacedSysctls are the sysctls a container may set; the net.* and fs.mqueue.* trees are
// namespaced as a whole.
var namespacedSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// ValidateSysctl checks one --sysctl key=value.
func ValidateSysctl(v string) (string, error) {
	k, _, ok := strings.Cut(v, "=")
	if ok && (namespacedSysctls[k] || strings.HasPrefix(k, "net.") || strings.HasPrefix(k, "fs.mqueue.")) {
		return v, nil
	}
	return "", fmt.Errorf("sysctl '%s' is not allowed", v)
}

// ParseEnvFile reads an --env-file: one NAME=value per line; empty lines and lines starting
// with # are skipped; a bare NAME takes its value from the CLI's environment and is dropped when
// unset there.
func ParseEnvFile(filename string) ([]string, error) {
	return parseKeyValueFile(filename, os.LookupEnv)
}

// ReadKVFiles reads key=value files (--label-file): like env files, but a bare key is dropped.
func ReadKVFiles(files []string) ([]string, error) {
	var out []string
	for _, f := range files {
		lines, err := parseKeyValueFile(f, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, lines...)
	}
	return out, nil
}

// ReadEnvFiles reads several env files, in order.
func ReadEnvFiles(files []string) ([]string, error) {
	var out []string
	for _, f := range files {
		lines, err := ParseEnvFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, lines...)
	}
	return out, nil
}

func parseKeyValueFile(filename string, lookup func(string) (string, bool)) ([]string, error) {
	raw, err := os.ReadFile(filename)
	if err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if !utf8.Valid(line) {
			return nil, fmt.Errorf("env file %s contains invalid utf8 bytes at line %d: %v", filename, n, line)
		}
		text := strings.TrimLeftFunc(string(line), unicode.IsSpace)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, hasValue := strings.Cut(text, "=")
		if name == "" {
			return nil, fmt.Errorf("no variable name on line '%s'", text)
		}
		if strings.ContainsFunc(name, unicode.IsSpace) {
			return nil, fmt.Errorf("variable '%s' contains whitespaces", name)
		}
		switch {
		case hasValue:
			lines = append(lines, name+"="+value)
		case lookup != nil:
			if v, ok := lookup(name); ok {
				lines = append(lines, name+"="+v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return lines, nil
}

// KeyValueMap turns key=value strings into a map; a string without "=" maps its key to "".
func KeyValueMap(values []string) map[string]string {
	if len(values) == 0 {
		return nil
	}
	m := make(map[string]string, len(values))
	for _, v := range values {
		k, val, _ := strings.Cut(v, "=")
		m[k] = val
	}
	return m
}
