package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Config is berthd's configuration; JSON keys are docker's daemon.json names.
type Config struct {
	DataRoot           string             `json:"data-root,omitempty"`
	ExecRoot           string             `json:"exec-root,omitempty"`
	Hosts              []string           `json:"hosts,omitempty"`
	LogLevel           string             `json:"log-level,omitempty"`
	Debug              bool               `json:"debug,omitempty"`
	Pidfile            string             `json:"pidfile,omitempty"`
	TLS                bool               `json:"tls,omitempty"`
	TLSVerify          bool               `json:"tlsverify,omitempty"`
	TLSCACert          string             `json:"tlscacert,omitempty"`
	TLSCert            string             `json:"tlscert,omitempty"`
	TLSKey             string             `json:"tlskey,omitempty"`
	DefaultRuntime     string             `json:"default-runtime,omitempty"`
	Runtimes           map[string]Runtime `json:"runtimes,omitempty"`
	InsecureRegistries []string           `json:"insecure-registries,omitempty"`
	RegistryMirrors    []string           `json:"registry-mirrors,omitempty"`
	// RegistryCertsDir replaces /etc/berth/certs.d and /etc/docker/certs.d (berth only).
	RegistryCertsDir string   `json:"registry-certs-dir,omitempty"`
	Labels           []string `json:"labels,omitempty"`
	// Bridge names the default network's bridge interface (docker's -b; berth0 when empty).
	Bridge string `json:"bridge,omitempty"`
	// DefaultAddressPools are the subnets networks without --subnet get (docker's 172.17-31/16
	// and 192.168.x/20 when empty).
	DefaultAddressPools []AddressPool `json:"default-address-pools,omitempty"`
	// CgroupFavorDynMods remounts the host's cgroup v2 hierarchy with favordynmods, which spares
	// each container start an RCU grace period (berth only; see host.FavorDynMods).
	CgroupFavorDynMods bool `json:"cgroup-favor-dynmods"`
}

// AddressPool is one default-address-pools entry: base split into subnets of size bits.
type AddressPool struct {
	Base string `json:"base"`
	Size int    `json:"size"`
}

// Set parses the --default-address-pool flag value "base=10.10.0.0/16,size=24".
func (p *AddressPool) Set(v string) error {
	for _, field := range strings.Split(v, ",") {
		key, val, _ := strings.Cut(field, "=")
		switch strings.TrimSpace(key) {
		case "base":
			p.Base = val
		case "size":
			n, err := strconv.Atoi(val)
			if err != nil {
				return fmt.Errorf("invalid size %q in address pool %q", val, v)
			}
			p.Size = n
		default:
			return fmt.Errorf("invalid field %q in address pool %q: use base=CIDR,size=N", key, v)
		}
	}
	if p.Base == "" || p.Size == 0 {
		return fmt.Errorf("address pool %q needs base and size", v)
	}
	return nil
}

// Runtime is an OCI runtime binary berthd may run containers with.
type Runtime struct {
	Path string   `json:"path"`
	Args []string `json:"runtimeArgs,omitempty"`
}

// Defaults returns the configuration used when neither flags nor daemon.json say otherwise.
func Defaults() Config {
	return Config{
		DataRoot:           "/var/lib/berth",
		ExecRoot:           "/run/berth",
		LogLevel:           "info",
		DefaultRuntime:     "runc",
		InsecureRegistries: []string{"127.0.0.0/8"},
		CgroupFavorDynMods: true,
	}
}

// DefaultSocket is where berthd listens when no host is configured.
func (c Config) DefaultSocket() string {
	return "unix://" + strings.TrimRight(c.ExecRoot, "/") + "/berth.sock"
}

// LoadFile overlays the keys of a daemon.json onto cfg and returns the set of keys it held. A missing
// file at the default path is fine; unknown keys are refused as docker does, so a typo never silently
// does nothing.
func LoadFile(path string, mustExist bool, cfg *Config) (map[string]bool, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !mustExist {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read daemon config: %w", err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, fmt.Errorf("daemon config %s is not valid JSON: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("daemon config %s: %w", path, err)
	}
	set := map[string]bool{}
	for k := range keys {
		set[k] = true
	}
	return set, nil
}
