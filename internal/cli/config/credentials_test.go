package config

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeHelper installs docker-credential-fake, which keeps credentials in files under its own
// directory and speaks the helper protocol (store/get/erase over stdin and stdout).
func fakeHelper(t *testing.T) string {
	dir := t.TempDir()
	script := `#!/bin/sh
store="` + dir + `/store"
mkdir -p "$store"
read -r input
key=$(printf %s "$input" | sed 's/[^A-Za-z0-9]/_/g')
case "$1" in
store) key=$(printf %s "$input" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p' | sed 's/[^A-Za-z0-9]/_/g'); printf %s "$input" > "$store/$key" ;;
get) if [ -f "$store/$key" ]; then cat "$store/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase) if [ -f "$store/$key" ]; then rm "$store/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-fake"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	return dir
}

func TestCredentialHelper(t *testing.T) {
	fakeHelper(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(`{"credsStore":"fake","plugins":{"x":{"y":"z"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.StoreAuth("127.0.0.1:5000", AuthConfig{Username: "u", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(f.Filename)
	if strings.Contains(string(raw), "secret") || !strings.Contains(string(raw), `"plugins"`) || !strings.Contains(string(raw), "127.0.0.1:5000") {
		t.Fatalf("config.json after storing through a helper:\n%s", raw)
	}
	f, _ = Load(dir)
	a, err := f.GetAuth("127.0.0.1:5000")
	if err != nil || a.Username != "u" || a.Password != "secret" {
		t.Fatalf("GetAuth: %+v %v", a, err)
	}
	hdr, err := f.RegistryAuth("127.0.0.1:5000/team/app:1")
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := base64.URLEncoding.DecodeString(hdr)
	var sent map[string]string
	if err := json.Unmarshal(dec, &sent); err != nil || sent["username"] != "u" || sent["serveraddress"] != "127.0.0.1:5000" {
		t.Fatalf("X-Registry-Auth %s: %v", dec, err)
	}
	if found, err := f.EraseAuth("127.0.0.1:5000"); err != nil || !found {
		t.Fatalf("EraseAuth: %v %v", found, err)
	}
	if a, err := f.GetAuth("127.0.0.1:5000"); err != nil || a != (AuthConfig{}) {
		t.Fatalf("after erase: %+v %v", a, err)
	}
	if found, err := f.EraseAuth("127.0.0.1:5000"); err != nil || found {
		t.Fatalf("second erase: %v %v", found, err)
	}
}

func TestPlainCredentials(t *testing.T) {
	dir := t.TempDir()
	f, _ := Load(dir)
	if err := f.StoreAuth("https://index.docker.io/v1/", AuthConfig{Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	want := base64.StdEncoding.EncodeToString([]byte("u:p"))
	if !strings.Contains(string(raw), DockerHubServer) || !strings.Contains(string(raw), want) {
		t.Fatalf("config.json:\n%s", raw)
	}
	f, _ = Load(dir)
	if a, _ := f.GetAuth("docker.io"); a.Username != "u" || a.Password != "p" {
		t.Fatalf("GetAuth(docker.io): %+v", a)
	}
}
