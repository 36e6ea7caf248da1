package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

// bigImage writes the busybox image with 4 random 25 MB layers on top (about 100 MB), tagged tag.
func bigImage(t *testing.T, tag string) string {
	p := filepath.Join(t.TempDir(), "big.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := fixture.WriteLayered(f, fixture.Options{RepoTags: []string{tag}}, 4, 25<<20, 42); err != nil {
		t.Fatal(err)
	}
	return p
}

func repoDigests(c *cli, image string) []string {
	c.t.Helper()
	var ds []string
	out := c.ok("image", "inspect", "--format", "{{json .RepoDigests}}", image)
	if err := json.Unmarshal([]byte(out), &ds); err != nil {
		c.t.Fatalf("RepoDigests of %s: %v (%q)", image, err, out)
	}
	return ds
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Fatalf("%s: want %q in:\n%s", what, w, out)
		}
	}
}

// TestRegistryDockerCLI: the docker CLI pushes the busybox fixture and a 100 MB image to an open
// registry, removes them, pulls them back (by tag and by digest) and runs them.
func TestRegistryDockerCLI(t *testing.T) {
	docker := dockerCLI(t)
	reg := harness.StartRegistry(t, harness.RegistryOptions{})
	d := harness.Start(t)
	c := &cli{t: t, bin: docker, d: d, dir: t.TempDir()}
	c.ok("load", "-i", harness.Busybox(t, fixture.Options{}))
	small := reg.Addr + "/busybox:1"
	big := reg.Addr + "/team/app/img:1"
	c.ok("load", "-i", bigImage(t, big))
	c.ok("tag", "busybox", small)

	out := c.ok("push", small)
	mustContain(t, "push busybox", out, "The push refers to repository ["+reg.Addr+"/busybox]", "Pushed", "1: digest: sha256:")
	out = c.ok("push", big)
	mustContain(t, "push big image", out, "Pushed", "1: digest: sha256:")
	// The base layer was pushed to another repository of the registry: mounted, not uploaded.
	mustContain(t, "push big image", out, "Mounted from busybox")
	mustContain(t, "push again", c.ok("push", small), "Layer already exists")

	smallDigests, bigDigests := repoDigests(c, small), repoDigests(c, big)
	if len(smallDigests) != 1 || !strings.HasPrefix(smallDigests[0], reg.Addr+"/busybox@sha256:") {
		t.Fatalf("RepoDigests after push: %v", smallDigests)
	}
	c.ok("rmi", big)
	out = c.ok("pull", big)
	mustContain(t, "pull big image", out, "1: Pulling from team/app/img", "Already exists", "Pull complete",
		"Digest: "+strings.TrimPrefix(bigDigests[0], reg.Addr+"/team/app/img@"), "Status: Downloaded newer image for "+big)
	c.ok("rmi", small, "busybox")
	if out := c.ok("images", "-q"); strings.TrimSpace(out) != strings.TrimSpace(c.ok("images", "-q", big)) {
		t.Fatalf("only the big image should be left:\n%s", out)
	}
	out = c.ok("pull", small)
	mustContain(t, "pull busybox", out, "Status: Downloaded newer image for "+small)
	if got := repoDigests(c, small); strings.Join(got, ",") != strings.Join(smallDigests, ",") {
		t.Fatalf("RepoDigests changed over push/rmi/pull: %v, then %v", smallDigests, got)
	}
	if got := repoDigests(c, big); strings.Join(got, ",") != strings.Join(bigDigests, ",") {
		t.Fatalf("RepoDigests of the big image changed: %v, then %v", bigDigests, got)
	}
	mustContain(t, "pull again", c.ok("pull", small), "Status: Image is up to date for "+small)
	c.ok("run", "--rm", "--network", "none", small, "true")
	c.ok("run", "--rm", "--network", "none", big, "true")

	c.ok("rmi", small)
	out = c.ok("pull", smallDigests[0])
	mustContain(t, "pull by digest", out, "Status: Downloaded newer image for "+smallDigests[0])
	c.ok("run", "--rm", "--network", "none", smallDigests[0], "true")

	out, errOut, code := c.run("", "pull", reg.Addr+"/busybox:nope")
	if code == 0 {
		t.Fatalf("pull of a missing tag succeeded:\n%s", out)
	}
	mustContain(t, "missing tag", errOut, "Error response from daemon: manifest for "+reg.Addr+"/busybox:nope not found: manifest unknown: manifest unknown")
}

// TestRegistryAuthTLS: against a registry with TLS (its CA in the certs directory berthd reads) and
// htpasswd auth, push fails before `docker login`, works after it, and logout forgets the password.
func TestRegistryAuthTLS(t *testing.T) {
	docker := dockerCLI(t)
	reg := harness.StartRegistry(t, harness.RegistryOptions{Secure: true})
	d := harness.Start(t, "--registry-certs-dir", reg.CertsDir)
	c := &cli{t: t, bin: docker, d: d, dir: t.TempDir()}
	c.ok("load", "-i", harness.Busybox(t, fixture.Options{}))
	image := reg.Addr + "/private/busybox:1"
	c.ok("tag", "busybox", image)

	out, errOut, code := c.run("", "push", image)
	if code == 0 {
		t.Fatalf("push without login succeeded:\n%s", out)
	}
	mustContain(t, "push without login", out+errOut, "unauthorized")

	_, errOut, code = c.run("wrong\n", "login", "-u", reg.User, "--password-stdin", reg.Addr)
	if code == 0 {
		t.Fatal("login with a wrong password succeeded")
	}
	mustContain(t, "bad login", errOut, "401")

	out, errOut, code = c.run(reg.Password+"\n", "login", "-u", reg.User, "--password-stdin", reg.Addr)
	if code != 0 {
		t.Fatalf("login: exit %d\n%s%s", code, out, errOut)
	}
	mustContain(t, "login", out, "Login Succeeded")
	configPath := filepath.Join(d.Dir, "client-config", "config.json")
	raw, err := os.ReadFile(configPath)
	if err != nil || !strings.Contains(string(raw), reg.Addr) {
		t.Fatalf("config.json after login: %s %v", raw, err)
	}

	mustContain(t, "push after login", c.ok("push", image), "1: digest: sha256:")
	c.ok("rmi", image, "busybox")
	mustContain(t, "pull after login", c.ok("pull", image), "Status: Downloaded newer image for "+image)
	c.ok("run", "--rm", "--network", "none", image, "true")

	mustContain(t, "logout", c.ok("logout", reg.Addr), "Removing login credentials for "+reg.Addr)
	raw, _ = os.ReadFile(configPath)
	if strings.Contains(string(raw), reg.Addr) {
		t.Fatalf("config.json still has credentials after logout:\n%s", raw)
	}
	c.ok("rmi", image)
	if out, _, code := c.run("", "pull", image); code == 0 {
		t.Fatalf("pull after logout succeeded:\n%s", out)
	}
}

// TestRegistryCertificateChecked: a registry whose certificate does not chain to the CA in the
// certs directory is refused, so the CA really is what berthd verifies against.
func TestRegistryCertificateChecked(t *testing.T) {
	reg := harness.StartRegistry(t, harness.RegistryOptions{Secure: true})
	other := harness.StartRegistry(t, harness.RegistryOptions{Secure: true})
	// Trust only the other registry's CA for this registry's address.
	dir := filepath.Join(t.TempDir(), reg.Addr)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), other.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	d := harness.Start(t, "--registry-certs-dir", filepath.Dir(dir))
	c := &cli{t: t, bin: harness.Binary(t, "berth"), d: d, dir: t.TempDir()}
	out, errOut, code := c.run(reg.Password+"\n", "login", "-u", reg.User, "--password-stdin", reg.Addr)
	if code == 0 {
		t.Fatalf("login through an untrusted certificate succeeded:\n%s", out)
	}
	mustContain(t, "untrusted certificate", errOut, "certificate")
}

// TestRegistryBerthCLI: berth login, push -a, pull -a/-q, logout against the TLS+auth registry.
func TestRegistryBerthCLI(t *testing.T) {
	reg := harness.StartRegistry(t, harness.RegistryOptions{Secure: true})
	d := harness.Start(t, "--registry-certs-dir", reg.CertsDir)
	c := &cli{t: t, bin: harness.Binary(t, "berth"), d: d, dir: t.TempDir()}
	c.ok("load", "-i", harness.Busybox(t, fixture.Options{}))
	repo := reg.Addr + "/berth/busybox"
	c.ok("tag", "busybox", repo+":a")
	c.ok("tag", "busybox", repo+":b")

	out, errOut, code := c.run(reg.Password+"\n", "login", "-u", reg.User, "--password-stdin", reg.Addr)
	if code != 0 {
		t.Fatalf("berth login: exit %d\n%s%s", code, out, errOut)
	}
	mustContain(t, "berth login", out, "Login Succeeded")
	out = c.ok("push", "-a", repo)
	mustContain(t, "push -a", out, "a: digest: sha256:", "b: digest: sha256:")
	c.ok("rmi", repo+":a", repo+":b", "busybox")

	out = c.ok("pull", "-q", repo+":a")
	if strings.TrimSpace(out) != repo+":a" {
		t.Fatalf("pull -q printed %q", out)
	}
	out = c.ok("pull", "-a", repo)
	mustContain(t, "pull -a", out, "b: Pulling from berth/busybox")
	tags := c.ok("images", "--format", "{{.Tag}}", repo)
	if f := strings.Fields(tags); len(f) != 2 || !strings.Contains(tags, "a") || !strings.Contains(tags, "b") {
		t.Fatalf("tags after pull -a: %q", tags)
	}
	mustContain(t, "berth logout", c.ok("logout", reg.Addr), "Removing login credentials for "+reg.Addr)
	mustContain(t, "berth logout again", c.ok("logout", reg.Addr), "Not logged in to "+reg.Addr)
}

// TestRegistryMirror: with --registry-mirror, a Docker Hub name is pulled from the mirror (there
// is no internet here, so only the mirror can answer).
func TestRegistryMirror(t *testing.T) {
	mirror := harness.StartRegistry(t, harness.RegistryOptions{})
	seed := harness.Start(t)
	c := &cli{t: t, bin: harness.Binary(t, "berth"), d: seed, dir: t.TempDir()}
	c.ok("load", "-i", harness.Busybox(t, fixture.Options{}))
	c.ok("tag", "busybox", mirror.Addr+"/library/busybox:latest")
	c.ok("push", mirror.Addr+"/library/busybox:latest")

	d := harness.Start(t, "--registry-mirror", mirror.URL())
	c = &cli{t: t, bin: harness.Binary(t, "berth"), d: d, dir: t.TempDir()}
	mustContain(t, "pull through mirror", c.ok("pull", "busybox"), "Status: Downloaded newer image for busybox:latest")
	c.ok("image", "inspect", "busybox:latest")
}

// TestRegistryDockerPy: docker-py's images.push and images.pull.
func TestRegistryDockerPy(t *testing.T) {
	reg := harness.StartRegistry(t, harness.RegistryOptions{})
	runDockerPy(t, "dockerpy_registry.py", "REGISTRY="+reg.Addr)
}
