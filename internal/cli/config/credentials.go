package config

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
)

// DockerHubServer is the key docker stores Docker Hub's credentials under.
const DockerHubServer = "https://index.docker.io/v1/"

// tokenUsername is what credential helpers hold as the user name of an identity token.
const tokenUsername = "<token>"

// ServerKey is the config.json key for a registry host as `login` stores it.
func ServerKey(host string) string {
	switch host {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io", DockerHubServer, "https://index.docker.io/v1":
		return DockerHubServer
	}
	h := strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	return h
}

// helper is the credential helper program for key: credHelpers first, then credsStore, or "".
func (f *File) helper(key string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	host, _, _ = strings.Cut(host, "/")
	if h := f.CredentialHelpers[host]; h != "" {
		return h
	}
	if h := f.CredentialHelpers[key]; h != "" {
		return h
	}
	return f.CredentialsStore
}

func program(helper string) client.ProgramFunc {
	return client.NewShellProgramFunc("docker-credential-" + helper)
}

// lookupKeys are the keys credentials for host may be stored under, the login key first.
func lookupKeys(host string) []string {
	key := ServerKey(host)
	if key == DockerHubServer {
		return []string{key, "docker.io", "index.docker.io", "https://index.docker.io/v1"}
	}
	return []string{key, "https://" + key, "http://" + key, "https://" + key + "/v1/", "https://" + key + "/v2/"}
}

// GetAuth returns the stored credentials for a registry host, from its credential helper or from
// config.json; nothing stored is not an error.
func (f *File) GetAuth(host string) (AuthConfig, error) {
	key := ServerKey(host)
	if h := f.helper(key); h != "" {
		creds, err := client.Get(program(h), key)
		if credentials.IsErrCredentialsNotFound(err) {
			return AuthConfig{}, nil
		}
		if err != nil {
			return AuthConfig{}, fmt.Errorf("credential helper docker-credential-%s: %w", h, err)
		}
		if creds.Username == tokenUsername {
			return AuthConfig{IdentityToken: creds.Secret}, nil
		}
		return AuthConfig{Username: creds.Username, Password: creds.Secret}, nil
	}
	for _, k := range lookupKeys(host) {
		a, ok := f.AuthConfigs[k]
		if !ok {
			continue
		}
		if a.Username == "" && a.Auth != "" {
			if raw, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
				a.Username, a.Password, _ = strings.Cut(string(raw), ":")
			}
		}
		a.Auth = ""
		return a, nil
	}
	return AuthConfig{}, nil
}

// StoreAuth records credentials for host in its credential helper or, without one, in config.json
// (base64 "user:password" in auth, as docker writes it), and saves the file.
func (f *File) StoreAuth(host string, a AuthConfig) error {
	key := ServerKey(host)
	if h := f.helper(key); h != "" {
		creds := &credentials.Credentials{ServerURL: key, Username: a.Username, Secret: a.Password}
		if a.IdentityToken != "" {
			creds.Username, creds.Secret = tokenUsername, a.IdentityToken
		}
		if err := client.Store(program(h), creds); err != nil {
			return fmt.Errorf("error storing credentials - err: %w", err)
		}
		f.AuthConfigs[key] = AuthConfig{} // docker keeps an empty entry so logout knows the host
	} else {
		stored := AuthConfig{IdentityToken: a.IdentityToken}
		if a.IdentityToken == "" {
			stored.Auth = base64.StdEncoding.EncodeToString([]byte(a.Username + ":" + a.Password))
		}
		f.AuthConfigs[key] = stored
	}
	return f.Save()
}

// EraseAuth forgets host's credentials; it reports whether there were any. As docker does, a host
// counts as logged in when config.json lists it (helpers' hosts get an empty entry at login).
func (f *File) EraseAuth(host string) (bool, error) {
	key := ServerKey(host)
	found := false
	for _, k := range lookupKeys(host) {
		if _, ok := f.AuthConfigs[k]; ok {
			delete(f.AuthConfigs, k)
			found = true
		}
	}
	if !found {
		return false, nil
	}
	if h := f.helper(key); h != "" {
		// Erase's error does not say "not found" by type; what is gone need not be erased.
		if err := client.Erase(program(h), key); err != nil && !strings.Contains(err.Error(), "credentials not found") {
			return true, fmt.Errorf("credential helper docker-credential-%s: %w", h, err)
		}
	}
	return true, f.Save()
}

// Save writes the auths back into config.json, keeping every other member of the file as it was.
func (f *File) Save() error {
	doc := map[string]json.RawMessage{}
	raw, err := os.ReadFile(f.Filename)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("parsing config file (%s): %w", f.Filename, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	auths, err := json.Marshal(f.AuthConfigs)
	if err != nil {
		return err
	}
	doc["auths"] = auths
	out, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.Filename), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Filename), ".config.json-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(out, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.Filename)
}

// RegistryAuth is the X-Registry-Auth value for image's registry from the stored credentials, or
// "" when there are none.
func (f *File) RegistryAuth(image string) (string, error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", nil // the daemon words the invalid name
	}
	host := reference.Domain(named)
	a, err := f.GetAuth(host)
	if err != nil || a == (AuthConfig{}) {
		return "", err
	}
	return EncodeAuth(a, ServerKey(host))
}

// EncodeAuth renders credentials as an X-Registry-Auth header value.
func EncodeAuth(a AuthConfig, server string) (string, error) {
	raw, err := json.Marshal(map[string]string{
		"username": a.Username, "password": a.Password, "serveraddress": server,
		"identitytoken": a.IdentityToken, "registrytoken": a.RegistryToken,
	})
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(raw), nil
}
