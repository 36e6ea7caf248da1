package e2e

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"testing"
)

// writeRootfs extracts the single layer of a docker-save tar to dst, giving a root filesystem tar
// for import.
func writeRootfs(t *testing.T, saved, dst string) {
	t.Helper()
	members := map[string][]byte{}
	f, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			members[hdr.Name] = b
		}
	}
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(members["manifest.json"], &manifest); err != nil || len(manifest) != 1 || len(manifest[0].Layers) != 1 {
		t.Fatalf("fixture manifest: %v %+v", err, manifest)
	}
	if err := os.WriteFile(dst, members[manifest[0].Layers[0]], 0o644); err != nil {
		t.Fatal(err)
	}
}
