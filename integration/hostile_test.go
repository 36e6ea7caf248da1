package integration

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

// TestHostileArchivesAreRefused loads tars that try to escape or lie and checks that each gets a
// clear error, that nothing is listed, nothing is left in the store and nothing appeared outside it.
func TestHostileArchivesAreRefused(t *testing.T) {
	d := harness.Start(t)
	outside := t.TempDir()
	layer := func(entries ...entry) []byte {
		tarball, _ := legacySave(t, legacyImage{tags: []string{"evil:latest"}, layers: [][]byte{buildTar(t, entries...)}})
		return tarball
	}
	good := readFile(t, harness.Busybox(t, fixture.Options{}))
	cases := []struct {
		name    string
		tarball []byte
		want    string
	}{
		{"archive member with ..", buildTar(t, file("../evil", "x"), file("manifest.json", "[]")), "escapes the archive root"},
		{"absolute archive member", buildTar(t, file("/evil", "x")), "escapes the archive root"},
		{"archive symlink out", buildTar(t, symlink("manifest.json", "../../../etc/passwd")), "points outside the archive"},
		{"not an image archive", buildTar(t, file("hello.txt", "hi")), "no manifest.json or index.json"},
		{"truncated archive", good[:len(good)/2], "truncated or corrupt"},
		{"garbage", []byte(strings.Repeat("not a tar ", 100)), "truncated or corrupt"},
		{"blob with wrong digest", buildTar(t, file("blobs/sha256/"+strings.Repeat("ab", 32), "not that content"), file("index.json", `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:`+strings.Repeat("ab", 32)+`","size":16}]}`)), "digest mismatch"},
		{"layer path with ..", layer(file("../../escape", "x")), "escapes the layer root"},
		{"absolute layer path", layer(file("/etc/abs", "x")), "absolute path"},
		{"symlink traversal", layer(symlink("a", outside), file("a/pwned", "x")), "symlink"},
		{"relative symlink traversal", layer(symlink("a", "../../../../.."), file("a/pwned", "x")), "symlink"},
		{"hardlink out", layer(hardlink("h", "../../../../etc/passwd")), "escapes the layer root"},
		{"device node", layer(chardev("dev/kmsg")), "device"},
		{"truncated layer", func() []byte {
			l := buildTar(t, file("big", strings.Repeat("x", 5000)))
			tarball, _ := legacySave(t, legacyImage{tags: []string{"evil:latest"}, layers: [][]byte{l[:1500]}})
			return tarball
		}(), "truncated or corrupt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errMsg := stream(t, d, "/images/load", bytes.NewReader(tc.tarball))
			if !strings.Contains(errMsg, tc.want) {
				t.Fatalf("error %q does not mention %q", errMsg, tc.want)
			}
			if imgs := listImages(t, d, ""); len(imgs) != 0 {
				t.Fatalf("hostile load left images: %+v", imgs)
			}
			if left := storeFiles(t, d); len(left) != 0 {
				t.Fatalf("hostile load left files in the store: %q", left)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Fatalf("hostile load wrote outside the store: %v", entries)
			}
			if _, err := os.Stat(filepath.Join(d.DataRoot(), "overlay", "escape")); !os.IsNotExist(err) {
				t.Fatalf("escape file exists: %v", err)
			}
		})
	}
	// The daemon is still fine and a good archive loads after all that.
	load(t, d, good)
	if imgs := listImages(t, d, ""); len(imgs) != 1 {
		t.Fatalf("good load after hostile ones: %+v", imgs)
	}
}

// bigImage is a busybox image with many files so that unpacking takes long enough to be interrupted.
func bigImage(t *testing.T) []byte {
	extra := map[string][]byte{}
	for i := 0; i < 20000; i++ {
		extra[fmt.Sprintf("data/%03d/file-%05d", i%100, i)] = bytes.Repeat([]byte{byte(i)}, 2048)
	}
	var buf bytes.Buffer
	if err := fixture.WriteBusybox(&buf, fixture.Options{ExtraFiles: extra, RepoTags: []string{"big:latest"}}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestKilledMidLoadRestartsConsistent kills berthd with SIGKILL while a load is being received and
// while its layer is being unpacked; after each restart no half image is listed and no orphan is left.
func TestKilledMidLoadRestartsConsistent(t *testing.T) {
	d := harness.Start(t)
	tarball := bigImage(t)

	t.Run("while receiving", func(t *testing.T) {
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			resp, err := d.Do("POST", "/images/load", pr)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		if _, err := pw.Write(tarball[:len(tarball)/2]); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return hasPrefix(storeFiles(t, d), "content/") })
		d.Kill()
		pw.CloseWithError(io.ErrClosedPipe)
		<-done
		d.Restart()
		assertEmptyStore(t, d)
	})

	t.Run("while unpacking", func(t *testing.T) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			resp, err := d.Do("POST", "/images/load", bytes.NewReader(tarball))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		waitFor(t, func() bool { return hasPrefix(storeFiles(t, d), "overlay/tmp/") })
		d.Kill()
		<-done
		d.Restart()
		assertEmptyStore(t, d)
	})

	// After the crashes the same archive loads completely.
	load(t, d, tarball)
	if imgs := listImages(t, d, ""); len(imgs) != 1 || imgs[0].RepoTags[0] != "big:latest" {
		t.Fatalf("load after crashes: %+v", imgs)
	}
}

func assertEmptyStore(t *testing.T, d *harness.Daemon) {
	t.Helper()
	if imgs := listImages(t, d, ""); len(imgs) != 0 {
		t.Fatalf("half image listed after crash: %+v", imgs)
	}
	if left := storeFiles(t, d); len(left) != 0 {
		t.Fatalf("orphans left after restart: %q", left)
	}
}

func hasPrefix(files []string, prefix string) bool {
	for _, f := range files {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("condition not reached within 30s")
}
