package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/distribution/reference"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestDecodeAuthHeader(t *testing.T) {
	body := `{"username":"u","password":"p?>","serveraddress":"127.0.0.1:5000"}`
	for name, h := range map[string]string{
		"url padded":   base64.URLEncoding.EncodeToString([]byte(body)),
		"url unpadded": base64.RawURLEncoding.EncodeToString([]byte(body)),
		"std":          base64.StdEncoding.EncodeToString([]byte(body)),
	} {
		a, err := DecodeAuthHeader(h)
		if err != nil || a.Username != "u" || a.Password != "p?>" || a.ServerAddress != "127.0.0.1:5000" {
			t.Errorf("%s: %+v %v", name, a, err)
		}
	}
	if a, err := DecodeAuthHeader(""); err != nil || a != (AuthConfig{}) {
		t.Errorf("empty header: %+v %v", a, err)
	}
	if _, err := DecodeAuthHeader("%%%"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("garbage header: %v", err)
	}
}

func TestLoginHost(t *testing.T) {
	for in, want := range map[string]string{
		"": DockerHub, "https://index.docker.io/v1/": DockerHub, "docker.io": DockerHub,
		"127.0.0.1:5000": "127.0.0.1:5000", "https://reg.example.com/v2/": "reg.example.com",
	} {
		if got := LoginHost(in); got != want {
			t.Errorf("LoginHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInsecureAndMirrors(t *testing.T) {
	c, err := New(Config{
		Insecure: []string{"127.0.0.0/8", "reg.example.com:5000"},
		Mirrors:  []string{"https://mirror.example.com", "quay.io=http://10.0.0.1:5000"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"127.0.0.1:5000": true, "127.9.9.9": true, "reg.example.com:5000": true, "192.0.2.1:443": false} {
		if got := c.isInsecure(host); got != want {
			t.Errorf("isInsecure(%s) = %v", host, got)
		}
	}
	hub := c.endpoints(DockerHub)
	if len(hub) != 2 || hub[0].host != "mirror.example.com" || !hub[0].mirror || hub[1].host != DockerHub {
		t.Errorf("Docker Hub endpoints: %+v", hub)
	}
	quay := c.endpoints("quay.io")
	if len(quay) != 2 || quay[0].host != "10.0.0.1:5000" || !quay[0].insecure {
		t.Errorf("quay.io endpoints: %+v", quay)
	}
	if _, err := New(Config{Mirrors: []string{"mirror.example.com"}}); err == nil {
		t.Error("a mirror without scheme was accepted")
	}
}

// TestPushResolve pushes a blob and manifest to an in-process registry and resolves them back.
func TestPushResolve(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	c, err := New(Config{Insecure: []string{"127.0.0.0/8"}, CertsDirs: []string{t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	repo, _ := reference.ParseNormalizedNamed(host + "/team/app/img")
	p, err := c.NewPush(ctx, repo, AuthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(config), Size: int64(len(config))}
	if ok, err := p.Exists(ctx, desc.Digest); err != nil || ok {
		t.Fatalf("Exists before upload: %v %v", ok, err)
	}
	if _, err := p.Upload(ctx, Blob{Descriptor: desc, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(config)), nil }}); err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Exists(ctx, desc.Digest); err != nil || !ok {
		t.Fatalf("Exists after upload: %v %v", ok, err)
	}
	m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: desc, Layers: []ocispec.Descriptor{}})
	if err := p.PutManifest(ctx, "1", ocispec.MediaTypeImageManifest, m); err != nil {
		t.Fatal(err)
	}
	tagged, _ := reference.WithTag(repo, "1")
	platform, _ := ParsePlatform("linux/amd64")
	src, err := c.Resolve(ctx, tagged, AuthConfig{}, platform, false)
	if err != nil {
		t.Fatal(err)
	}
	if src.Digest != digest.FromBytes(m) || string(src.RawConfig) != string(config) {
		t.Fatalf("resolved %s, config %s", src.Digest, src.RawConfig)
	}
	missing, _ := reference.WithTag(repo, "nope")
	_, err = c.Resolve(ctx, missing, AuthConfig{}, platform, false)
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "manifest for "+host+"/team/app/img:nope not found: manifest unknown") {
		t.Fatalf("missing tag: %v", err)
	}
}
