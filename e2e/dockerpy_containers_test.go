package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

// TestDockerPyContainers runs testdata/dockerpy_containers.py (docker-py 7.1)
// against berthd: run, logs, wait, exec, archive, stop, remove and list.
func TestDockerPyContainers(t *testing.T) {
	if err := exec.Command("python3", "-c", "import docker").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("docker-py is not importable; scripts/setup.sh should have installed it")
		}
		t.Skip("docker-py not installed")
	}
	d := harness.Start(t)
	tarball := harness.Busybox(t, fixture.Options{})
	script, _ := filepath.Abs("testdata/dockerpy_containers.py")
	cmd := exec.Command("python3", script, tarball)
	cmd.Env = d.Env()
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("docker-py container script failed: %v", err)
	}
}
