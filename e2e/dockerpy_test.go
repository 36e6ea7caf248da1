package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

// runDockerPy runs a docker-py 7.1 script from testdata against a fresh berthd, passing it the
// path of the busybox image tar; extraEnv (KEY=VALUE) is added to its environment.
func runDockerPy(t *testing.T, script string, extraEnv ...string) {
	if err := exec.Command("python3", "-c", "import docker").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("docker-py is not importable; scripts/setup.sh should have installed it")
		}
		t.Skip("docker-py not installed")
	}
	d := harness.Start(t)
	tarball := harness.Busybox(t, fixture.Options{})
	path, _ := filepath.Abs(filepath.Join("testdata", script))
	cmd := exec.Command("python3", path, tarball)
	cmd.Env = append(d.Env(), extraEnv...)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("%s failed: %v", script, err)
	}
}

// TestDockerPy: from_env, images.load/list/get/remove, tag, history and errors.
func TestDockerPy(t *testing.T) { runDockerPy(t, "dockerpy_images.py") }

// TestDockerPyContainers: run, logs, wait, exec, archive, stop, remove and list.
func TestDockerPyContainers(t *testing.T) { runDockerPy(t, "dockerpy_containers.py") }

// TestDockerPyVolumes: volumes.create/get/list/prune/remove and containers.run(volumes=...).
func TestDockerPyVolumes(t *testing.T) { runDockerPy(t, "dockerpy_volumes.py") }

// TestDockerPyNetworks: networks.create/get/list/prune/remove, connect and disconnect.
func TestDockerPyNetworks(t *testing.T) { runDockerPy(t, "dockerpy_networks.py") }

// TestDockerPyBuild: images.build with fileobj and path, the cache, build args and a failing RUN.
func TestDockerPyBuild(t *testing.T) { runDockerPy(t, "dockerpy_build.py") }
