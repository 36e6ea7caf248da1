package command

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"
)

// fakeDaemon is a small stand-in for berthd on a unix socket.
type fakeDaemon struct {
	t      *testing.T
	sock   string
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
	routes map[string]http.HandlerFunc // "METHOD /path" without the version prefix
}

func newFakeDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	dir, err := os.MkdirTemp("", "berthcli")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &fakeDaemon{t: t, sock: filepath.Join(dir, "d.sock"), routes: map[string]http.HandlerFunc{}}
	l, err := net.Listen("unix", d.sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(d.serve))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return d
}

func (d *fakeDaemon) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_ping" {
		w.Header().Set("API-Version", "1.51")
		_, _ = io.WriteString(w, "OK")
		return
	}
	body, _ := io.ReadAll(r.Body)
	d.mu.Lock()
	d.reqs = append(d.reqs, r)
	d.bodies = append(d.bodies, string(body))
	d.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/v1.51")
	if h, ok := d.routes[r.Method+" "+path]; ok {
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
		return
	}
	sendJSON(w, 404, map[string]string{"message": "page not found"})
}

func (d *fakeDaemon) handle(route string, h http.HandlerFunc) { d.routes[route] = h }

func (d *fakeDaemon) last() (*http.Request, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.reqs) == 0 {
		d.t.Fatal("no request reached the daemon")
	}
	return d.reqs[len(d.reqs)-1], d.bodies[len(d.bodies)-1]
}

func sendJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type result struct {
	code           int
	stdout, stderr string
}

func (d *fakeDaemon) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	host := "unix:///nonexistent/berth.sock"
	if d != nil {
		host = "unix://" + d.sock
	}
	getenv := func(k string) string {
		switch k {
		case "BERTH_HOST":
			return host
		case "HOME":
			return t.TempDir()
		}
		return ""
	}
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, getenv)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

const (
	busyboxID = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	otherID   = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
)

func sampleImages() []image.Summary {
	now := time.Now()
	return []image.Summary{
		{
			ID: busyboxID, Created: now.Add(-15 * 24 * time.Hour).Unix(), Size: 4261352, SharedSize: -1, Containers: -1,
			RepoTags:    []string{"busybox:latest", "busybox:1.36", "registry.local:5000/tools/bb:v1"},
			RepoDigests: []string{"busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111"},
		},
		{ID: otherID, Created: now.Add(-3 * time.Hour).Unix(), Size: 1234567890, SharedSize: -1, Containers: -1},
	}
}

func TestImagesTable(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("GET /images/json", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 200, sampleImages()) })

	res := d.run(t, "", "images")
	want := "" +
		"REPOSITORY                    TAG       IMAGE ID       CREATED       SIZE\n" +
		"busybox                       latest    0123456789ab   2 weeks ago   4.26MB\n" +
		"busybox                       1.36      0123456789ab   2 weeks ago   4.26MB\n" +
		"registry.local:5000/tools/bb  v1        0123456789ab   2 weeks ago   4.26MB\n" +
		"<none>                        <none>    fedcba987654   3 hours ago   1.23GB\n"
	// The repository column is as wide as its longest cell plus 3.
	want = strings.ReplaceAll(want, "registry.local:5000/tools/bb  ", "registry.local:5000/tools/bb   ")
	want = strings.ReplaceAll(want, "REPOSITORY                    ", "REPOSITORY                     ")
	want = strings.ReplaceAll(want, "busybox                       ", "busybox                        ")
	want = strings.ReplaceAll(want, "<none>                        ", "<none>                         ")
	if res.code != 0 || res.stdout != want {
		t.Fatalf("code %d stderr %q\ngot:\n%s\nwant:\n%s", res.code, res.stderr, res.stdout, want)
	}
	req, _ := d.last()
	if req.URL.RawQuery != "" {
		t.Errorf("plain images sends no query, got %q", req.URL.RawQuery)
	}

	res = d.run(t, "", "image", "ls", "-q")
	if res.stdout != "0123456789ab\n0123456789ab\n0123456789ab\nfedcba987654\n" {
		t.Errorf("-q got %q", res.stdout)
	}

	res = d.run(t, "", "image", "list", "--digests", "--no-trunc", "--format", "{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}")
	want = "busybox latest sha256:1111111111111111111111111111111111111111111111111111111111111111 " + busyboxID + "\n" +
		"busybox 1.36 sha256:1111111111111111111111111111111111111111111111111111111111111111 " + busyboxID + "\n" +
		"registry.local:5000/tools/bb v1 <none> " + busyboxID + "\n" +
		"<none> <none> <none> " + otherID + "\n"
	if res.stdout != want {
		t.Errorf("--digests --no-trunc got:\n%s\nwant:\n%s", res.stdout, want)
	}

	res = d.run(t, "", "images", "--format", "json", "busybox")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("json lines: %q", res.stdout)
	}
	var first map[string]string
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["Repository"] != "busybox" || first["Tag"] != "latest" || first["ID"] != "0123456789ab" ||
		first["Size"] != "4.26MB" || first["Digest"] != "<none>" || first["Containers"] != "N/A" || first["CreatedSince"] != "2 weeks ago" {
		t.Errorf("json row %v", first)
	}
	req, _ = d.last()
	if got := req.URL.Query().Get("filters"); got != `{"reference":{"busybox":true}}` {
		t.Errorf("reference filter: %q", got)
	}

	res = d.run(t, "", "images", "-a", "-f", "dangling=true", "--filter", "label=a=b", "--format", "table {{.ID}}\t{{.Size}}")
	if !strings.HasPrefix(res.stdout, "IMAGE ID       SIZE\n0123456789ab   4.26MB\n") {
		t.Errorf("custom table got %q", res.stdout)
	}
	req, _ = d.last()
	if req.URL.Query().Get("all") != "1" || req.URL.Query().Get("filters") != `{"dangling":{"true":true},"label":{"a=b":true}}` {
		t.Errorf("query %q", req.URL.RawQuery)
	}
}

func TestRemoveImages(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("DELETE /images/busybox", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, []image.DeleteResponse{{Untagged: "busybox:latest"}, {Deleted: busyboxID}})
	})
	d.handle("DELETE /images/used", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 409, map[string]string{"message": "conflict: unable to remove repository reference \"used\""})
	})
	res := d.run(t, "", "rmi", "nope", "busybox")
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
	if res.stdout != "Untagged: busybox:latest\nDeleted: "+busyboxID+"\n" {
		t.Errorf("stdout %q", res.stdout)
	}
	if res.stderr != "Error response from daemon: page not found\n" {
		t.Errorf("stderr %q", res.stderr)
	}
	req, _ := d.last()
	if req.URL.RawQuery != "" {
		t.Errorf("query %q", req.URL.RawQuery)
	}

	// --force: missing images are reported but do not fail; other errors still do.
	res = d.run(t, "", "image", "rm", "-f", "--no-prune", "nope")
	if res.code != 0 || res.stderr != "Error response from daemon: page not found\n" {
		t.Errorf("-f missing: code %d stderr %q", res.code, res.stderr)
	}
	req, _ = d.last()
	if req.URL.RawQuery != "force=1&noprune=1" {
		t.Errorf("query %q", req.URL.RawQuery)
	}
	res = d.run(t, "", "image", "remove", "-f", "used", "nope")
	if res.code != 1 || !strings.Contains(res.stderr, "Error response from daemon: conflict") {
		t.Errorf("-f conflict: code %d stderr %q", res.code, res.stderr)
	}
}

func TestHistory(t *testing.T) {
	d := newFakeDaemon(t)
	created := time.Now().Add(-15 * 24 * time.Hour).Unix()
	d.handle("GET /images/busybox/history", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, []image.HistoryResponseItem{
			{ID: busyboxID, Created: created, CreatedBy: `/bin/sh -c #(nop)  CMD ["sh"]`, Size: 0, Tags: []string{"busybox:latest"}},
			{ID: "<missing>", Created: created, CreatedBy: "/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7fd3443cef785fd1 in / ", Size: 4261352, Comment: "imported"},
		})
	})
	res := d.run(t, "", "history", "busybox")
	want := "" +
		"IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT\n" +
		"0123456789ab   2 weeks ago   /bin/sh -c #(nop)  CMD [\"sh\"]                   0B        \n" +
		"<missing>      2 weeks ago   /bin/sh -c #(nop) ADD file:7e9002edaafd4e457…   4.26MB    imported\n"
	if res.code != 0 || res.stdout != want {
		t.Fatalf("code %d stderr %q\ngot:\n%s\nwant:\n%s", res.code, res.stderr, res.stdout, want)
	}
	res = d.run(t, "", "image", "history", "-q", "busybox")
	if res.stdout != "0123456789ab\n<missing>\n" {
		t.Errorf("-q got %q", res.stdout)
	}
	res = d.run(t, "", "history", "--human=false", "--no-trunc", "--format", "{{.Size}}|{{.CreatedBy}}", "busybox")
	if !strings.HasPrefix(res.stdout, "0|/bin/sh -c #(nop)  CMD [\"sh\"]\n4261352|/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7fd3443cef785fd1 in / \n") {
		t.Errorf("--no-trunc -H=false got %q", res.stdout)
	}
}

func TestInspect(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("GET /images/busybox/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"Id":"`+busyboxID+`","RepoTags":["busybox:latest"],"Size":4261352,"Config":{"Cmd":["sh"]},"NewField":{"X":1}}`)
	})
	d.handle("GET /images/nope/json", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 404, map[string]string{"message": "No such image: nope:latest"})
	})
	res := d.run(t, "", "image", "inspect", "busybox")
	want := "[\n    {\n        \"Id\": \"" + busyboxID + "\",\n        \"RepoTags\": [\n            \"busybox:latest\"\n        ],\n" +
		"        \"Size\": 4261352,\n        \"Config\": {\n            \"Cmd\": [\n                \"sh\"\n            ]\n        },\n" +
		"        \"NewField\": {\n            \"X\": 1\n        }\n    }\n]\n"
	if res.code != 0 || res.stdout != want {
		t.Fatalf("code %d\ngot:\n%s\nwant:\n%s", res.code, res.stdout, want)
	}
	res = d.run(t, "", "image", "inspect", "-f", "{{.ID}} {{.Size}} {{index .Config.Cmd 0}}", "busybox")
	if res.stdout != busyboxID+" 4261352 sh\n" {
		t.Errorf("-f got %q", res.stdout)
	}
	// A member the typed value lacks is read from the raw reply, numbers as sent.
	res = d.run(t, "", "inspect", "--format", "{{.NewField.X}} {{.Size}}", "busybox")
	if res.code != 0 || res.stdout != "1 4261352\n" {
		t.Errorf("raw fallback: code %d out %q err %q", res.code, res.stdout, res.stderr)
	}
	res = d.run(t, "", "image", "inspect", "nope")
	if res.code != 1 || res.stdout != "[]\n" || res.stderr != "Error response from daemon: No such image: nope:latest\n" {
		t.Errorf("missing image: %+v", res)
	}
	res = d.run(t, "", "inspect", "busybox", "nope")
	if res.code != 1 || !strings.HasPrefix(res.stdout, "[\n    {\n        \"Id\"") || res.stderr != "Error: No such object: nope\n" {
		t.Errorf("missing object: %+v", res)
	}
	res = d.run(t, "", "inspect", "--type", "image", "nope")
	if res.code != 1 || res.stderr != "Error response from daemon: No such image: nope:latest\n" {
		t.Errorf("--type image: %+v", res)
	}
}

func TestTag(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("POST /images/busybox/tag", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	res := d.run(t, "", "tag", "busybox", "me/bb")
	if res.code != 0 {
		t.Fatalf("%+v", res)
	}
	req, _ := d.last()
	if req.URL.RawQuery != "repo=docker.io%2Fme%2Fbb&tag=latest" {
		t.Errorf("query %q", req.URL.RawQuery)
	}
	res = d.run(t, "", "image", "tag", "busybox", "localhost:5000/bb:v2")
	req, _ = d.last()
	if res.code != 0 || req.URL.RawQuery != "repo=localhost%3A5000%2Fbb&tag=v2" {
		t.Errorf("query %q %+v", req.URL.RawQuery, res)
	}
	res = d.run(t, "", "tag", "busybox", "Bad:Name")
	if res.code != 1 || !strings.Contains(res.stderr, `Error parsing reference: "Bad:Name" is not a valid repository/tag`) {
		t.Errorf("bad ref: %+v", res)
	}
}

func TestPrune(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("POST /images/prune", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, image.PruneReport{
			ImagesDeleted:  []image.DeleteResponse{{Untagged: "a:latest"}, {Deleted: otherID}},
			SpaceReclaimed: 1234567,
		})
	})
	res := d.run(t, "y\n", "image", "prune")
	want := "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] " +
		"Deleted Images:\nuntagged: a:latest\ndeleted: " + otherID + "\n\nTotal reclaimed space: 1.235MB\n"
	if res.code != 0 || res.stdout != want {
		t.Fatalf("code %d\ngot:\n%q\nwant:\n%q", res.code, res.stdout, want)
	}
	req, _ := d.last()
	if req.URL.Query().Get("filters") != `{"dangling":{"true":true}}` {
		t.Errorf("filters %q", req.URL.RawQuery)
	}

	n := len(d.reqs)
	res = d.run(t, "n\n", "image", "prune", "-a")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "WARNING! This will remove all images without at least one container associated to them.") || len(d.reqs) != n {
		t.Errorf("declined: %+v", res)
	}

	res = d.run(t, "", "image", "prune", "-af", "--filter", "until=24h")
	req, _ = d.last()
	if res.code != 0 || req.URL.Query().Get("filters") != `{"dangling":{"false":true},"until":{"24h":true}}` {
		t.Errorf("-af: %+v %q", res, req.URL.RawQuery)
	}
}

func TestLoadSaveImport(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("POST /images/load", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if string(body) == "BAD" {
			_, _ = io.WriteString(w, `{"errorDetail":{"message":"invalid tar header"},"error":"invalid tar header"}`+"\n")
			return
		}
		_, _ = io.WriteString(w, `{"stream":"Loaded image: busybox:latest\n"}`+"\n")
	})
	d.handle("GET /images/get", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-tar")
		_, _ = io.WriteString(w, "TAR:"+strings.Join(r.URL.Query()["names"], ","))
	})
	d.handle("POST /images/create", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"`+otherID+`"}`+"\n")
	})

	res := d.run(t, "TARBYTES", "load")
	if res.code != 0 || res.stdout != "Loaded image: busybox:latest\n" {
		t.Errorf("load: %+v", res)
	}
	req, body := d.last()
	if body != "TARBYTES" || req.URL.Query().Get("quiet") != "1" || req.Header.Get("Content-Type") != "application/x-tar" {
		t.Errorf("load request %q %q", req.URL.RawQuery, body)
	}
	res = d.run(t, "BAD", "image", "load")
	if res.code != 1 || res.stderr != "invalid tar header\n" {
		t.Errorf("load error: %+v", res)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.tar")
	if err := os.WriteFile(in, []byte("FILETAR"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = d.run(t, "", "load", "-i", in, "-q")
	_, body = d.last()
	if res.code != 0 || body != "FILETAR" {
		t.Errorf("load -i: %+v body %q", res, body)
	}

	res = d.run(t, "", "save", "busybox", "other:1")
	if res.code != 0 || res.stdout != "TAR:busybox,other:1" {
		t.Errorf("save to stdout: %+v", res)
	}
	out := filepath.Join(dir, "out.tar")
	res = d.run(t, "", "image", "save", "-o", out, "busybox")
	data, err := os.ReadFile(out)
	if res.code != 0 || err != nil || string(data) != "TAR:busybox" {
		t.Errorf("save -o: %+v %q %v", res, data, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	res = d.run(t, "", "save", "-o", filepath.Join(dir, "missing", "x.tar"), "busybox")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "failed to save image: invalid output path: directory") {
		t.Errorf("save to missing dir: %+v", res)
	}

	res = d.run(t, "ROOTFS", "import", "-c", "ENV A=1", "--change", "CMD [\"sh\"]", "-m", "hello", "-", "mine:v1")
	if res.code != 0 || res.stdout != otherID+"\n" {
		t.Errorf("import: %+v", res)
	}
	req, body = d.last()
	q := req.URL.Query()
	if body != "ROOTFS" || q.Get("fromSrc") != "-" || q.Get("repo") != "mine:v1" || q.Get("message") != "hello" ||
		strings.Join(q["changes"], "|") != `ENV A=1|CMD ["sh"]` {
		t.Errorf("import request %q %q", req.URL.RawQuery, body)
	}
	res = d.run(t, "", "image", "import", in)
	_, body = d.last()
	if res.code != 0 || body != "FILETAR" {
		t.Errorf("import file: %+v %q", res, body)
	}
	res = d.run(t, "", "import", "http://example.invalid/rootfs.tar", "web")
	req, body = d.last()
	if res.code != 0 || req.URL.Query().Get("fromSrc") != "http://example.invalid/rootfs.tar" || body != "" {
		t.Errorf("import url: %+v %q", res, req.URL.RawQuery)
	}
}

func TestVersionInfoDF(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("GET /version", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, system.VersionResponse{
			Platform: system.PlatformInfo{Name: "berth"}, Version: "0.1.0", APIVersion: "1.51", MinAPIVersion: "1.24",
			Os: "linux", Arch: "amd64", GoVersion: "go1.26.8", GitCommit: "abc1234",
			Components: []system.ComponentVersion{{Name: "Engine", Version: "0.1.0", Details: map[string]string{
				"ApiVersion": "1.51", "MinAPIVersion": "1.24", "GoVersion": "go1.26.8", "GitCommit": "abc1234",
				"BuildTime": "today", "Os": "linux", "Arch": "amd64", "Experimental": "false"}},
				{Name: "runc", Version: "1.1.12", Details: map[string]string{"GitCommit": "v1.1.12-0"}}},
		})
	})
	d.handle("GET /info", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, system.Info{ID: "node1", Images: 2, Driver: "overlay", ServerVersion: "0.1.0", NCPU: 4,
			MemTotal: 8 << 30, Name: "host", OperatingSystem: "Debian", Warnings: []string{"WARNING: no swap limit support"}})
	})
	d.handle("GET /system/df", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, map[string]any{
			"LayersSize": 5000000,
			"Images":     []image.Summary{{ID: busyboxID, RepoTags: []string{"busybox:latest"}, Size: 5000000, SharedSize: 0, Containers: 1, Created: time.Now().Unix()}},
			"Containers": []map[string]any{{"Id": "c1c1c1c1c1c1c1c1", "Image": "busybox", "Command": "sh", "State": "exited", "SizeRw": 100, "Names": []string{"/web"}, "Created": time.Now().Unix(), "Status": "Exited (0)"}},
			"Volumes":    []map[string]any{{"Name": "vol1", "UsageData": map[string]any{"RefCount": 0, "Size": 2000}}},
			"BuildCache": []any{},
		})
	})

	res := d.run(t, "", "version")
	for _, want := range []string{
		"Client:\n Version:           ", " API version:       1.51\n", "\nServer: berth\n Engine:\n  Version:          0.1.0\n",
		"  API version:      1.51 (minimum version 1.24)\n", " runc:\n  Version:          1.1.12\n  GitCommit:        v1.1.12-0\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, res.stdout)
		}
	}
	res = d.run(t, "", "version", "--format", "{{.Server.Version}} {{.Client.APIVersion}}")
	if res.stdout != "0.1.0 1.51\n" {
		t.Errorf("version --format: %q", res.stdout)
	}
	res = d.run(t, "", "version", "-f", "json")
	var vj map[string]map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &vj); err != nil || vj["Server"]["Version"] != "0.1.0" || vj["Client"]["ApiVersion"] != "1.51" {
		t.Errorf("version json: %q %v", res.stdout, err)
	}

	res = d.run(t, "", "info")
	if res.code != 0 || !strings.Contains(res.stdout, "\nServer:\n Containers: 0\n  Running: 0\n") ||
		!strings.Contains(res.stdout, " Images: 2\n Server Version: 0.1.0\n Storage Driver: overlay\n") ||
		!strings.Contains(res.stdout, " Total Memory: 8GiB\n") || res.stderr != "WARNING: no swap limit support\n" {
		t.Errorf("info: %+v", res)
	}
	res = d.run(t, "", "system", "info", "--format", "{{.ID}} {{.NCPU}} {{.ClientInfo.Context}}")
	if res.stdout != "node1 4 default\n" {
		t.Errorf("info --format: %+v", res)
	}

	res = d.run(t, "", "system", "df")
	want := "" +
		"TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n" +
		"Images          1         1         5MB       0B (0%)\n" +
		"Containers      1         0         100B      100B (100%)\n" +
		"Local Volumes   1         0         2kB       2kB (100%)\n" +
		"Build Cache     0         0         0B        0B\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("df: code %d err %q\ngot:\n%s\nwant:\n%s", res.code, res.stderr, res.stdout, want)
	}
	res = d.run(t, "", "system", "df", "-v")
	for _, want := range []string{
		"Images space usage:\n\nREPOSITORY   TAG       IMAGE ID       CREATED                  SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS\n",
		"   5MB       0B            5MB           1\n",
		"busybox      latest    0123456789ab   ",
		"\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED",
		"c1c1c1c1c1c1   busybox   \"sh\"      0               100B      ",
		"\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\nvol1          0         2kB\n",
		"\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("df -v lacks %q:\n%s", want, res.stdout)
		}
	}
	res = d.run(t, "", "system", "df", "--format", "{{.Type}}={{.Size}}")
	if res.stdout != "Images=5MB\nContainers=100B\nLocal Volumes=2kB\nBuild Cache=0B\n" {
		t.Errorf("df --format: %q", res.stdout)
	}
}

func TestExitStatuses(t *testing.T) {
	var none *fakeDaemon
	res := none.run(t, "", "images")
	if res.code != 1 || res.stderr != "Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is berthd running?\n" {
		t.Errorf("unreachable: %+v", res)
	}
	res = none.run(t, "", "images", "--bogus")
	if res.code != 125 || !strings.HasPrefix(res.stderr, "unknown flag: --bogus\n\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth images --help' for more information") {
		t.Errorf("bad flag: %+v", res)
	}
	res = none.run(t, "", "tag", "only-one")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "berth: 'berth tag' requires 2 arguments") {
		t.Errorf("arg count: %+v", res)
	}
	res = none.run(t, "", "frobnicate")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "berth: unknown command: berth frobnicate") {
		t.Errorf("unknown command: %+v", res)
	}
	res = none.run(t, "", "image")
	if res.code != 0 || !strings.HasPrefix(res.stderr, "Usage:  berth image COMMAND\n\nManage images\n\nCommands:\n") {
		t.Errorf("group help: %+v", res)
	}
	res = none.run(t, "", "images", "--help")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "Usage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nList images\n\nAliases:\n  berth image ls, berth image list, berth images\n\nOptions:\n") {
		t.Errorf("--help: %+v", res)
	}
	res = none.run(t, "", "-H", "unix:///a", "-H", "unix:///b", "images")
	if res.code != 1 || res.stderr != "Failed to initialize: unable to resolve berth endpoint: Specify only one -H\n" {
		t.Errorf("two -H: %+v", res)
	}
	res = none.run(t, "", "load")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "Cannot connect") {
		t.Errorf("load from non-terminal stdin goes to the daemon: %+v", res)
	}
	res = none.run(t, "", "--log-level", "loud", "images")
	if res.code != 1 || res.stderr != "Unable to parse logging level: loud\n" {
		t.Errorf("log level: %+v", res)
	}
}

func TestHostFlagOverridesEnv(t *testing.T) {
	d := newFakeDaemon(t)
	d.handle("GET /images/json", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 200, []image.Summary{}) })
	var none *fakeDaemon
	res := none.run(t, "", "-H", "unix://"+d.sock, "images")
	if res.code != 0 || res.stdout != "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n" {
		t.Errorf("%+v", res)
	}
}
