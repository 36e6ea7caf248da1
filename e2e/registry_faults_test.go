package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

// payloadSize is the size of the random file in the fault-test images.
const payloadSize = 6_000_000

// faultProxy sits between berthd and a registry and damages the layer blobs it is told about.
type faultProxy struct {
	addr    string
	layers  map[string]bool // URL path suffixes "/blobs/<digest>" to damage
	corrupt atomic.Bool     // flip one byte in the middle of each layer
	cuts    atomic.Int32    // cut the connection half way through this many layer downloads
	ranges  atomic.Int32    // layer requests that asked for a byte range (a resumed download)
}

func startFaultProxy(t *testing.T, registry string) *faultProxy {
	p := &faultProxy{layers: map[string]bool{}}
	target, _ := url.Parse("http://" + registry)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // the cuts are on purpose
	rp.ModifyResponse = func(resp *http.Response) error {
		i := strings.LastIndex(resp.Request.URL.Path, "/blobs/")
		if resp.Request.Method != http.MethodGet || i < 0 || !p.layers[resp.Request.URL.Path[i:]] {
			return nil
		}
		if resp.Request.Header.Get("Range") != "" {
			p.ranges.Add(1)
		}
		half := resp.ContentLength / 2
		switch {
		case p.corrupt.Load():
			resp.Body = &damagedBody{ReadCloser: resp.Body, at: half}
		case p.cuts.Add(-1) >= 0:
			resp.Body = &damagedBody{ReadCloser: resp.Body, at: half, cut: true}
		}
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	p.addr = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// damagedBody flips the byte at offset at, or ends the stream with an error there (the proxy then
// aborts the connection, as a network failure would).
type damagedBody struct {
	io.ReadCloser
	at, off int64
	cut     bool
}

func (b *damagedBody) Read(p []byte) (int, error) {
	if b.cut && b.off >= b.at {
		return 0, errors.New("cut by the test")
	}
	n, err := b.ReadCloser.Read(p)
	if !b.cut && b.off <= b.at && b.at < b.off+int64(n) {
		p[b.at-b.off] ^= 0xff
	}
	b.off += int64(n)
	return n, err
}

// pushRaw uploads the busybox fixture with a payload file, its layer as given (plain or gzip),
// straight to the registry's HTTP API, and returns the layer's blob path suffix.
func pushRaw(t *testing.T, registry, repo string, gz bool) string {
	rng := rand.New(rand.NewPCG(7, uint64(len(repo))))
	payload := make([]byte, payloadSize)
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	img, err := fixture.Build(fixture.Options{ExtraFiles: map[string][]byte{"data/payload.bin": payload}})
	if err != nil {
		t.Fatal(err)
	}
	layer, mediaType := img.Layer, ocispec.MediaTypeImageLayer
	if gz {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(img.Layer)
		zw.Close()
		layer, mediaType = buf.Bytes(), ocispec.MediaTypeImageLayerGzip
	}
	base := "http://" + registry + "/v2/" + repo
	upload := func(blob []byte) ocispec.Descriptor {
		d := digest.FromBytes(blob)
		resp, err := http.Post(base+"/blobs/uploads/", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("start upload: %s %v", resp.Status, err)
		}
		q := loc.Query()
		q.Set("digest", d.String())
		loc.RawQuery = q.Encode()
		req, _ := http.NewRequest(http.MethodPut, loc.String(), bytes.NewReader(blob))
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload %s: %s", d, resp.Status)
		}
		return ocispec.Descriptor{Digest: d, Size: int64(len(blob))}
	}
	cfg := upload(img.Config)
	cfg.MediaType = ocispec.MediaTypeImageConfig
	ld := upload(layer)
	ld.MediaType = mediaType
	manifest, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{ld},
	})
	req, _ := http.NewRequest(http.MethodPut, base+"/manifests/1", bytes.NewReader(manifest))
	req.Header.Set("Content-Type", ocispec.MediaTypeImageManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("put manifest: %s", resp.Status)
	}
	return "/blobs/" + ld.Digest.String()
}

// assertStoreConsistent checks that a failed pull left nothing half written: no ingest files or
// unpack directories, every blob hashing to its name and every layer committed whole.
func assertStoreConsistent(t *testing.T, d *harness.Daemon) {
	t.Helper()
	root := d.DataRoot()
	for _, dir := range []string{"content/ingest", "overlay/tmp"} {
		if entries, _ := os.ReadDir(filepath.Join(root, dir)); len(entries) != 0 {
			t.Errorf("%s holds %d leftovers after the failed pull", dir, len(entries))
		}
	}
	blobs, _ := filepath.Glob(filepath.Join(root, "content/blobs/sha256/*"))
	for _, b := range blobs {
		raw, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != filepath.Base(b) {
			t.Errorf("blob %s does not hash to its name", filepath.Base(b))
		}
	}
	layers, _ := filepath.Glob(filepath.Join(root, "overlay/layers/*"))
	for _, l := range layers {
		if _, err := os.Stat(filepath.Join(l, "layer.json")); err != nil {
			t.Errorf("layer %s is not committed whole: %v", filepath.Base(l), err)
		}
	}
}

// TestRegistryPullFaults pulls a plain and a gzip layer through a proxy that damages them. A
// corrupt layer fails the pull without a retry, a cut download is resumed where it broke and,
// once its resumes run out, started again; a pull that fails leaves no image and nothing half
// written, and the next pull succeeds and runs.
func TestRegistryPullFaults(t *testing.T) {
	docker := dockerCLI(t)
	reg := harness.StartRegistry(t, harness.RegistryOptions{})
	proxy := startFaultProxy(t, reg.Addr)
	d := harness.Start(t)
	c := &cli{t: t, bin: docker, d: d, dir: t.TempDir()}
	for _, gz := range []bool{false, true} {
		repo := fmt.Sprintf("faults/gzip-%v", gz)
		proxy.layers[pushRaw(t, reg.Addr, repo, gz)] = true
		ref := proxy.addr + "/" + repo + ":1"
		check := func(what string) {
			t.Helper()
			if out := c.ok("images", "-q"); strings.TrimSpace(out) != "" {
				t.Fatalf("%s: images left after a failed pull:\n%s", what, out)
			}
			assertStoreConsistent(t, d)
		}
		runs := func() {
			t.Helper()
			out := c.ok("run", "--rm", "--network", "none", ref, "wc", "-c", "/data/payload.bin")
			if !strings.HasPrefix(strings.TrimSpace(out), fmt.Sprint(payloadSize)) {
				t.Fatalf("payload of %s: %q", ref, out)
			}
			c.ok("rmi", ref)
		}

		proxy.corrupt.Store(true)
		out, errOut, code := c.run("", "pull", ref)
		if code == 0 || strings.Contains(out, "Retrying") {
			t.Fatalf("gzip=%v: a corrupt layer should fail the pull without a retry: exit %d\n%s%s", gz, code, out, errOut)
		}
		if !gz {
			// The tar is intact, so only the digest check can tell.
			mustContain(t, "corrupt layer", errOut, "filesystem layer verification failed for digest sha256:")
		}
		check("corrupt layer")
		proxy.corrupt.Store(false)

		// A cut download is resumed where it broke, with a Range request, as docker's is.
		proxy.cuts.Store(1)
		proxy.ranges.Store(0)
		out = c.ok("pull", ref)
		mustContain(t, "cut once", out, "Pull complete", "Status: Downloaded newer image for "+ref)
		if strings.Contains(out, "Retrying") || proxy.ranges.Load() != 1 {
			t.Fatalf("gzip=%v: a download cut once should resume with one range request (got %d), not start again:\n%s", gz, proxy.ranges.Load(), out)
		}
		runs()

		// Cut on every request: the resumes run out, then the pull starts the blob again.
		proxy.cuts.Store(1 + 3 + 1) // the first request, its three resumes, and one more
		out = c.ok("pull", ref)
		mustContain(t, "cut five times", out, "Retrying in 1 second", "Status: Downloaded newer image for "+ref)
		runs()

		proxy.cuts.Store(100)
		out, errOut, code = c.run("", "pull", ref)
		if code == 0 {
			t.Fatalf("gzip=%v: a pull whose layer is always cut succeeded:\n%s", gz, out)
		}
		check("cut every time")
		proxy.cuts.Store(0)
		mustContain(t, "after the cuts", c.ok("pull", ref), "Status: Downloaded newer image for "+ref)
		runs()
	}
}
