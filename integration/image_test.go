// Package integration tests berthd through its API: a real daemon with real overlayfs, started fresh
// for each test by the harness package.
package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/image"

	"github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/integration/harness"
	"github.com/berth-project/berth/internal/fixture"
)

func getJSON(t *testing.T, d *harness.Daemon, path string, v any) int {
	t.Helper()
	resp, err := d.Do("GET", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

func call(t *testing.T, d *harness.Daemon, method, path string, body io.Reader) (int, string) {
	t.Helper()
	resp, err := d.Do(method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stream posts body and collects the JSON messages; it returns the stream lines and the error, if any.
func stream(t *testing.T, d *harness.Daemon, path string, body io.Reader) ([]string, string) {
	t.Helper()
	resp, err := d.Do("POST", path, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e types.ErrorResponse
		json.NewDecoder(resp.Body).Decode(&e)
		if e.Message == "" {
			t.Fatalf("status %d without message", resp.StatusCode)
		}
		return nil, e.Message
	}
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m types.JSONMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad stream line %q: %v", sc.Text(), err)
		}
		if m.Error != nil {
			return lines, m.Error.Message
		}
		if m.Stream != "" {
			lines = append(lines, strings.TrimSpace(m.Stream))
		}
		if m.Status != "" && m.ID == "" {
			lines = append(lines, m.Status)
		}
	}
	return lines, ""
}

func load(t *testing.T, d *harness.Daemon, tarball []byte) []string {
	t.Helper()
	lines, errMsg := stream(t, d, "/v1.51/images/load", bytes.NewReader(tarball))
	if errMsg != "" {
		t.Fatalf("load failed: %s", errMsg)
	}
	return lines
}

func listImages(t *testing.T, d *harness.Daemon, filters string) []image.Summary {
	t.Helper()
	var imgs []image.Summary
	p := "/images/json"
	if filters != "" {
		p += "?filters=" + url.QueryEscape(filters)
	}
	if code := getJSON(t, d, p, &imgs); code != http.StatusOK {
		t.Fatalf("list images: status %d", code)
	}
	return imgs
}

// storeFiles lists what is left in the daemon's blob, layer and ingest directories.
func storeFiles(t *testing.T, d *harness.Daemon) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"content/blobs/sha256", "content/ingest", "overlay/layers", "overlay/tmp"} {
		entries, err := os.ReadDir(filepath.Join(d.DataRoot(), sub))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range entries {
			out = append(out, sub+"/"+e.Name())
		}
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPingAndVersionNegotiation(t *testing.T) {
	d := harness.Start(t)
	resp, err := d.Do("HEAD", "/_ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("API-Version") != "1.51" {
		t.Fatalf("HEAD /_ping: %d, API-Version %q", resp.StatusCode, resp.Header.Get("API-Version"))
	}
	if code, body := call(t, d, "GET", "/v1.99/version", nil); code != 400 || !strings.Contains(body, "too new") {
		t.Fatalf("too-new version: %d %s", code, body)
	}
	if code, body := call(t, d, "GET", "/v1.12/version", nil); code != 400 || !strings.Contains(body, "too old") {
		t.Fatalf("too-old version: %d %s", code, body)
	}
	var v struct{ APIVersion, MinAPIVersion string }
	if code := getJSON(t, d, "/v1.40/version", &v); code != 200 || v.APIVersion != "1.51" || v.MinAPIVersion != "1.24" {
		t.Fatalf("version: %d %+v", code, v)
	}
	if code, body := call(t, d, "GET", "/v1.51/nonsense", nil); code != 404 || !strings.Contains(body, `"message"`) {
		t.Fatalf("unknown route: %d %s", code, body)
	}
	var info struct {
		Images        int
		Driver        string
		DockerRootDir string
		NCPU          int
		MemTotal      int64
		CgroupVersion string
	}
	getJSON(t, d, "/info", &info)
	if info.Driver != "overlay2" || info.DockerRootDir != d.DataRoot() || info.NCPU < 1 || info.MemTotal <= 0 || info.CgroupVersion == "" {
		t.Fatalf("info lacks real figures: %+v", info)
	}
}

func TestSecondDaemonOnSameDataRootIsRefused(t *testing.T) {
	d := harness.Start(t)
	out, err := execOutput(d.Bin, "--data-root", d.DataRoot(), "--exec-root", filepath.Join(d.Dir, "exec2"), "-H", "unix://"+filepath.Join(d.Dir, "other.sock"), "--config-file", filepath.Join(d.Dir, "daemon.json"))
	if err == nil || !strings.Contains(out, "in use by another berthd") {
		t.Fatalf("second daemon: err=%v out=%s", err, out)
	}
}

func TestLoadSaveRoundTrip(t *testing.T) {
	d := harness.Start(t)
	tarball := readFile(t, harness.Busybox(t, fixture.Options{}))
	lines := load(t, d, tarball)
	if len(lines) == 0 || lines[len(lines)-1] != "Loaded image: busybox:latest" {
		t.Fatalf("load output: %q", lines)
	}
	imgs := listImages(t, d, "")
	if len(imgs) != 1 || len(imgs[0].RepoTags) != 1 || imgs[0].RepoTags[0] != "busybox:latest" || imgs[0].Size <= 0 {
		t.Fatalf("images: %+v", imgs)
	}
	id := imgs[0].ID

	var insp image.InspectResponse
	if code := getJSON(t, d, "/images/busybox/json", &insp); code != 200 {
		t.Fatalf("inspect: %d", code)
	}
	if insp.ID != id || insp.Config == nil || strings.Join(insp.Config.Cmd, " ") != "sh" || len(insp.RootFS.Layers) != 1 {
		t.Fatalf("inspect: %+v", insp)
	}
	// The layer was unpacked for real: busybox is in the diff directory.
	if _, err := os.Stat(filepath.Join(insp.GraphDriver.Data["UpperDir"], "bin", "busybox")); err != nil {
		t.Fatalf("unpacked layer: %v", err)
	}

	if code, body := call(t, d, "POST", "/images/busybox/tag?repo=example.com/team/app&tag=v1", nil); code != 201 {
		t.Fatalf("tag: %d %s", code, body)
	}
	resp, err := d.Do("GET", "/images/get?names=busybox&names=example.com/team/app:v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	saved, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("save: %d %s", resp.StatusCode, saved)
	}

	// A second daemon loads what the first saved, with the same ID and both names.
	d2 := harness.Start(t)
	lines = load(t, d2, saved)
	imgs2 := listImages(t, d2, "")
	if len(imgs2) != 1 || imgs2[0].ID != id || len(imgs2[0].RepoTags) != 2 {
		t.Fatalf("reloaded images: %+v (load said %q)", imgs2, lines)
	}

	var hist []image.HistoryResponseItem
	getJSON(t, d2, "/images/example.com/team/app:v1/history", &hist)
	if len(hist) == 0 || hist[0].ID != id || hist[0].Size <= 0 {
		t.Fatalf("history: %+v", hist)
	}
}

func TestLegacyMultiLayerLoadAndOverlayView(t *testing.T) {
	d := harness.Start(t)
	base := buildTar(t, dir("etc/"), file("etc/keep", "base"), file("etc/gone", "old"), dir("data/"), file("data/a", "a"))
	top := buildTar(t, file("etc/.wh.gone", ""), dir("data/"), file("data/.wh..wh..opq", ""), file("data/b", "b"))
	tarball, ids := legacySave(t,
		legacyImage{tags: []string{"layered:1"}, layers: [][]byte{base, top}, cmd: []string{"sh"}},
		legacyImage{tags: []string{"base:1"}, layers: [][]byte{base}, labels: map[string]string{"kind": "base"}})
	lines := load(t, d, tarball)
	if len(lines) != 2 {
		t.Fatalf("load lines: %q", lines)
	}
	var insp image.InspectResponse
	getJSON(t, d, "/images/layered:1/json", &insp)
	if insp.ID != ids[0] || insp.GraphDriver == nil || insp.GraphDriver.Data["LowerDir"] == "" {
		t.Fatalf("inspect: %+v", insp)
	}
	// Both images share the base layer: one directory on disk.
	var layers []string
	for _, f := range storeFiles(t, d) {
		if strings.HasPrefix(f, "overlay/layers/") {
			layers = append(layers, f)
		}
	}
	if len(layers) != 2 {
		t.Fatalf("expected 2 shared layer dirs, got %q", layers)
	}
	// Mount the union the way a container will see it.
	mnt := t.TempDir()
	opts := "lowerdir=" + insp.GraphDriver.Data["UpperDir"] + ":" + insp.GraphDriver.Data["LowerDir"]
	if out, err := execOutput("mount", "-t", "overlay", "overlay", "-o", "ro,"+opts, mnt); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	defer execOutput("umount", mnt)
	if b, err := os.ReadFile(filepath.Join(mnt, "etc/keep")); err != nil || string(b) != "base" {
		t.Fatalf("etc/keep: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(mnt, "etc/gone")); !os.IsNotExist(err) {
		t.Fatalf("whiteout did not hide etc/gone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(mnt, "data/a")); !os.IsNotExist(err) {
		t.Fatalf("opaque dir did not hide data/a: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(mnt, "data/b")); string(b) != "b" {
		t.Fatalf("data/b: %q", b)
	}

	if got := listImages(t, d, `{"label":{"kind=base":true}}`); len(got) != 1 || got[0].ID != ids[1] {
		t.Fatalf("label filter: %+v", got)
	}
	if got := listImages(t, d, `{"reference":{"lay*":true}}`); len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("reference filter: %+v", got)
	}
}

func TestRemoveTagRules(t *testing.T) {
	d := harness.Start(t)
	tarball, ids := legacySave(t, legacyImage{tags: []string{"one:a"}, layers: [][]byte{buildTar(t, file("x", "1"))}})
	load(t, d, tarball)
	call(t, d, "POST", "/images/one:a/tag?repo=one&tag=b", nil)
	call(t, d, "POST", "/images/one:a/tag?repo=two&tag=latest", nil)

	// An ID with names in two repositories needs force.
	code, body := call(t, d, "DELETE", "/images/"+ids[0][7:19], nil)
	if code != 409 || !strings.Contains(body, "referenced in multiple repositories") {
		t.Fatalf("rmi by id: %d %s", code, body)
	}
	// Removing a name while others remain only untags.
	var del []image.DeleteResponse
	code, body = call(t, d, "DELETE", "/images/one:b", nil)
	json.Unmarshal([]byte(body), &del)
	if code != 200 || len(del) != 1 || del[0].Untagged != "one:b" {
		t.Fatalf("untag: %d %s", code, body)
	}
	code, body = call(t, d, "DELETE", "/images/"+ids[0]+"?force=1", nil)
	del = nil
	json.Unmarshal([]byte(body), &del)
	if code != 200 || len(del) != 3 || del[2].Deleted != ids[0] {
		t.Fatalf("forced delete: %d %s", code, body)
	}
	if code, body := call(t, d, "DELETE", "/images/one:a", nil); code != 404 || !strings.Contains(body, "No such image: one:a") {
		t.Fatalf("missing image: %d %s", code, body)
	}
	if left := storeFiles(t, d); len(left) != 0 {
		t.Fatalf("store not empty after delete: %q", left)
	}
}

func TestPrune(t *testing.T) {
	d := harness.Start(t)
	first, ids := legacySave(t, legacyImage{tags: []string{"app:1"}, layers: [][]byte{buildTar(t, file("v", "1"))}})
	load(t, d, first)
	second, _ := legacySave(t, legacyImage{tags: []string{"app:1"}, layers: [][]byte{buildTar(t, file("v", "2"))}})
	lines := load(t, d, second)
	if !strings.Contains(strings.Join(lines, "\n"), "renaming the old one with ID "+ids[0]) {
		t.Fatalf("retag notice missing: %q", lines)
	}
	if got := listImages(t, d, `{"dangling":{"true":true}}`); len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("dangling: %+v", got)
	}
	var report image.PruneReport
	resp, _ := d.Do("POST", "/images/prune", nil)
	json.NewDecoder(resp.Body).Decode(&report)
	resp.Body.Close()
	if len(report.ImagesDeleted) != 1 || report.ImagesDeleted[0].Deleted != ids[0] || report.SpaceReclaimed == 0 {
		t.Fatalf("prune dangling: %+v", report)
	}
	if got := listImages(t, d, ""); len(got) != 1 {
		t.Fatalf("prune removed a tagged image: %+v", got)
	}
	resp, _ = d.Do("POST", "/images/prune?filters="+url.QueryEscape(`{"dangling":{"false":true}}`), nil)
	resp.Body.Close()
	if got := listImages(t, d, ""); len(got) != 0 {
		t.Fatalf("prune -a left %+v", got)
	}
	if left := storeFiles(t, d); len(left) != 0 {
		t.Fatalf("store not empty after prune -a: %q", left)
	}
}

func TestImportWithChanges(t *testing.T) {
	d := harness.Start(t)
	rootfs := buildTar(t, dir("bin/"), file("bin/hello", "#!/bin/sh\necho hi\n"))
	q := url.Values{"fromSrc": {"-"}, "repo": {"imported"}, "tag": {"v1"}, "message": {"from a test"},
		"changes": {`CMD ["sh"]`, "ENV A=1 B=two", "LABEL team=core", "WORKDIR /srv", "EXPOSE 80"}}
	lines, errMsg := stream(t, d, "/images/create?"+q.Encode(), bytes.NewReader(rootfs))
	if errMsg != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "sha256:") {
		t.Fatalf("import: %q %s", lines, errMsg)
	}
	var insp image.InspectResponse
	getJSON(t, d, "/images/imported:v1/json", &insp)
	c := insp.Config
	if insp.ID != lines[0] || strings.Join(c.Cmd, ",") != "sh" || strings.Join(c.Env, ",") != "A=1,B=two" ||
		c.Labels["team"] != "core" || c.WorkingDir != "/srv" || insp.Comment != "from a test" {
		t.Fatalf("imported config: %+v / %+v", insp, c)
	}
	if _, ok := c.ExposedPorts["80/tcp"]; !ok {
		t.Fatalf("exposed ports: %v", c.ExposedPorts)
	}
	q.Set("changes", "FROBNICATE x")
	if _, errMsg := stream(t, d, "/images/create?"+q.Encode(), bytes.NewReader(rootfs)); !strings.Contains(errMsg, "FROBNICATE is not a valid change command") {
		t.Fatalf("bad change accepted: %q", errMsg)
	}
}
