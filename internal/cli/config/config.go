// Package config reads the CLI's config.json (by default ~/.docker/config.json, shared with the
// docker CLI): registry credentials and default output formats.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileName is the config file's name inside the config directory.
const FileName = "config.json"

// AuthConfig is one registry's stored credentials.
type AuthConfig struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// File is the content of config.json that berth uses; unknown members are ignored.
type File struct {
	AuthConfigs       map[string]AuthConfig `json:"auths"`
	CredentialsStore  string                `json:"credsStore,omitempty"`
	CredentialHelpers map[string]string     `json:"credHelpers,omitempty"`
	ImagesFormat      string                `json:"imagesFormat,omitempty"`
	PsFormat          string                `json:"psFormat,omitempty"`
	VolumesFormat     string                `json:"volumesFormat,omitempty"`
	NetworksFormat    string                `json:"networksFormat,omitempty"`
	HTTPHeaders       map[string]string     `json:"HttpHeaders,omitempty"`
	DetachKeys        string                `json:"detachKeys,omitempty"`
	CurrentContext    string                `json:"currentContext,omitempty"`
	Filename          string                `json:"-"`
}

// Dir is the config directory: dirFlag when set, else $DOCKER_CONFIG, else ~/.docker.
func Dir(dirFlag string, getenv func(string) string) string {
	if dirFlag != "" {
		return dirFlag
	}
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home := getenv("HOME")
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		}
	}
	return filepath.Join(home, ".docker")
}

// Load reads dir/config.json; a missing file yields an empty config.
func Load(dir string) (*File, error) {
	f := &File{AuthConfigs: map[string]AuthConfig{}, Filename: filepath.Join(dir, FileName)}
	raw, err := os.ReadFile(f.Filename)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(raw, f); err != nil {
		return f, fmt.Errorf("parsing config file (%s): %w", f.Filename, err)
	}
	if f.AuthConfigs == nil {
		f.AuthConfigs = map[string]AuthConfig{}
	}
	return f, nil
}
