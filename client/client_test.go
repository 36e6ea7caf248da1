package client

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/berth-project/berth/api"
	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/moby/moby/api/types/image"
)

// fakeDaemon serves handler on a unix socket and records request paths.
type fakeDaemon struct {
	srv   *httptest.Server
	sock  string
	mu    sync.Mutex
	paths []string
}

func newFakeDaemon(t *testing.T, apiVersion string, handler http.HandlerFunc) *fakeDaemon {
	t.Helper()
	d := &fakeDaemon{sock: filepath.Join(t.TempDir(), "d.sock")}
	l, err := net.Listen("unix", d.sock)
	if err != nil {
		t.Fatal(err)
	}
	d.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.paths = append(d.paths, r.Method+" "+r.URL.Path)
		d.mu.Unlock()
		if r.URL.Path == "/_ping" {
			if apiVersion != "" {
				w.Header().Set("API-Version", apiVersion)
			}
			w.Header().Set("OSType", "linux")
			_, _ = io.WriteString(w, "OK")
			return
		}
		handler(w, r)
	}))
	d.srv.Listener = l
	d.srv.Start()
	t.Cleanup(d.srv.Close)
	return d
}

func (d *fakeDaemon) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := New("unix://"+d.sock, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (d *fakeDaemon) requests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.paths...)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func TestNegotiation(t *testing.T) {
	cases := []struct {
		server string
		want   string
	}{
		{"1.44", "1.44"},
		{"1.51", "1.51"},
		{"1.60", api.DefaultVersion},
		{"", api.MinVersion},
	}
	for _, tc := range cases {
		t.Run("server="+tc.server, func(t *testing.T) {
			d := newFakeDaemon(t, tc.server, func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]string{"Version": "x"})
			})
			c := d.client(t)
			if _, err := c.Version(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Version(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := d.requests()
			want := []string{"GET /_ping", "GET /v" + tc.want + "/version", "GET /v" + tc.want + "/version"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("requests = %q, want %q (ping once, then versioned)", got, want)
			}
			if c.ClientVersion() != tc.want {
				t.Fatalf("ClientVersion = %q, want %q", c.ClientVersion(), tc.want)
			}
		})
	}
}

func TestFixedVersionSkipsPing(t *testing.T) {
	d := newFakeDaemon(t, "1.51", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{})
	})
	c := d.client(t, WithVersion("1.41"))
	if _, err := c.Info(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := d.requests(); len(got) != 1 || got[0] != "GET /v1.41/info" {
		t.Fatalf("requests = %q", got)
	}
}

func TestNegotiatedVersion(t *testing.T) {
	if got := NegotiatedVersion("v1.30"); got != "1.30" {
		t.Errorf("got %q", got)
	}
	if got := NegotiatedVersion("1.100"); got != api.DefaultVersion {
		t.Errorf("1.100 must compare numerically above %s, got %q", api.DefaultVersion, got)
	}
	if CompareVersions("1.9", "1.10") != -1 || CompareVersions("1.10", "1.10") != 0 || CompareVersions("2.0", "1.99") != 1 {
		t.Error("CompareVersions is not numeric")
	}
}

func TestStatusMapping(t *testing.T) {
	cases := []struct {
		code  int
		class errdefs.Class
	}{
		{404, errdefs.NotFound},
		{400, errdefs.InvalidArgument},
		{409, errdefs.Conflict},
		{401, errdefs.Unauthorized},
		{403, errdefs.Forbidden},
		{503, errdefs.Unavailable},
		{501, errdefs.NotImplemented},
		{500, errdefs.Unknown},
		{418, errdefs.Unknown},
	}
	for _, tc := range cases {
		d := newFakeDaemon(t, "1.51", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, tc.code, map[string]string{"message": "boom " + http.StatusText(tc.code)})
		})
		c := d.client(t)
		_, err := c.ImageHistory(context.Background(), "busybox")
		if err == nil {
			t.Fatalf("%d: no error", tc.code)
		}
		if got := errdefs.ClassOf(err); got != tc.class {
			t.Errorf("%d: class %v, want %v", tc.code, got, tc.class)
		}
		if want := "boom " + http.StatusText(tc.code); err.Error() != want {
			t.Errorf("%d: message %q, want %q", tc.code, err.Error(), want)
		}
		se, ok := IsServerError(err)
		if !ok || se.StatusCode != tc.code {
			t.Errorf("%d: not a ServerError with the status: %#v", tc.code, err)
		}
	}
}

func TestErrorBodies(t *testing.T) {
	cases := []struct {
		name, ctype, body, want string
	}{
		{"plain text", "text/plain", "page not found\n", "page not found"},
		{"empty", "", "", "404 Not Found"},
		{"json without content type", "", `{"message":"No such image: x"}`, "No such image: x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDaemon(t, "1.51", func(w http.ResponseWriter, r *http.Request) {
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.WriteHeader(404)
				_, _ = io.WriteString(w, tc.body)
			})
			_, _, err := d.client(t).ImageInspect(context.Background(), "x")
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !errdefs.IsNotFound(err) {
				t.Fatal("404 must be NotFound")
			}
		})
	}
}

func TestConnectionError(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	c, err := New("unix://" + sock)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Version(context.Background())
	if !IsConnectionError(err) {
		t.Fatalf("err = %v, want a connection error", err)
	}
	want := "Cannot connect to the berth daemon at unix://" + sock + ". Is berthd running?"
	if err.Error() != want {
		t.Fatalf("err = %q, want %q", err.Error(), want)
	}
	if got := (&ConnectionError{Host: DefaultHost}).Error(); got != "Cannot connect to the berth daemon at unix:///run/berth/berth.sock. Is berthd running?" {
		t.Fatalf("default host message = %q", got)
	}
}

func TestParseHost(t *testing.T) {
	cases := []struct {
		in, proto, addr, base string
		bad                   bool
	}{
		{"", "unix", "/run/berth/berth.sock", "", false},
		{"unix:///tmp/x.sock", "unix", "/tmp/x.sock", "", false},
		{"unix://", "unix", "/run/berth/berth.sock", "", false},
		{"tcp://127.0.0.1:2376", "tcp", "127.0.0.1:2376", "", false},
		{"tcp://example.com", "tcp", "example.com:2375", "", false},
		{"tcp://:4243", "tcp", "127.0.0.1:4243", "", false},
		{"tcp://[::1]:80/base/", "tcp", "[::1]:80", "/base", false},
		{"localhost:1234", "tcp", "localhost:1234", "", false},
		{"ssh://me@host", "", "", "", true},
	}
	for _, tc := range cases {
		proto, addr, base, err := ParseHost(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: want error", tc.in)
			}
			continue
		}
		if err != nil || proto != tc.proto || addr != tc.addr || base != tc.base {
			t.Errorf("%q: got (%q, %q, %q, %v), want (%q, %q, %q)", tc.in, proto, addr, base, err, tc.proto, tc.addr, tc.base)
		}
	}
}

func TestTCPClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("API-Version", "1.45")
			return
		}
		if r.URL.Path != "/v1.45/_ping" && r.URL.Path != "/v1.45/version" {
			http.Error(w, "unexpected "+r.URL.Path, 500)
			return
		}
		writeJSON(w, 200, map[string]string{"Version": "9.9", "ApiVersion": "1.45"})
	}))
	defer srv.Close()
	c, err := New("tcp://" + strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Version(context.Background())
	if err != nil || v.Version != "9.9" {
		t.Fatalf("version %+v, %v", v, err)
	}
	p, err := c.Ping(context.Background())
	if err != nil || p.APIVersion != "1.45" {
		t.Fatalf("ping %+v, %v", p, err)
	}
}

func TestImageRequests(t *testing.T) {
	var got []string
	var mu sync.Mutex
	record := func(r *http.Request, extra string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+extra)
	}
	d := newFakeDaemon(t, "1.51", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1.51/images/json":
			record(r, "")
			writeJSON(w, 200, []image.Summary{{ID: "sha256:abc", RepoTags: []string{"busybox:latest"}}})
		case strings.HasSuffix(r.URL.Path, "/json"):
			record(r, "")
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"Id":"sha256:abc","RepoTags":["busybox:latest"],"Extra":"kept"}`)
		case strings.HasSuffix(r.URL.Path, "/tag"), r.URL.Path == "/v1.51/images/prune":
			record(r, "")
			writeJSON(w, 200, map[string]any{"SpaceReclaimed": 5})
		case r.Method == http.MethodDelete:
			record(r, "")
			writeJSON(w, 200, []image.DeleteResponse{{Untagged: "busybox:latest"}, {Deleted: "sha256:abc"}})
		case r.URL.Path == "/v1.51/images/load":
			body, _ := io.ReadAll(r.Body)
			record(r, " ct="+r.Header.Get("Content-Type")+" body="+string(body))
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"stream":"Loaded image: busybox:latest\n"}`)
		case r.URL.Path == "/v1.51/images/get":
			record(r, "")
			_, _ = io.WriteString(w, "TAR")
		case r.URL.Path == "/v1.51/images/create":
			body, _ := io.ReadAll(r.Body)
			record(r, " body="+string(body))
			_, _ = io.WriteString(w, `{"status":"sha256:def"}`)
		default:
			http.Error(w, "unexpected", 500)
		}
	})
	c := d.client(t)
	ctx := context.Background()

	f := filters.Args{}
	f.Add("dangling", "true")
	imgs, err := c.ImageList(ctx, f, true)
	if err != nil || len(imgs) != 1 || imgs[0].ID != "sha256:abc" {
		t.Fatalf("list: %v %v", imgs, err)
	}
	insp, raw, err := c.ImageInspect(ctx, "busybox")
	if err != nil || insp.ID != "sha256:abc" || !strings.Contains(string(raw), `"Extra":"kept"`) {
		t.Fatalf("inspect: %+v %s %v", insp, raw, err)
	}
	if err := c.ImageTag(ctx, "busybox", "docker.io/library/mine", "v1"); err != nil {
		t.Fatal(err)
	}
	dels, err := c.ImageRemove(ctx, "busybox", true, true)
	if err != nil || len(dels) != 2 {
		t.Fatalf("rm: %v %v", dels, err)
	}
	rep, err := c.ImagePrune(ctx, f)
	if err != nil || rep.SpaceReclaimed != 5 {
		t.Fatalf("prune: %+v %v", rep, err)
	}
	lr, err := c.ImageLoad(ctx, strings.NewReader("TARDATA"), true)
	if err != nil || !lr.JSON {
		t.Fatalf("load: %+v %v", lr, err)
	}
	_ = lr.Body.Close()
	sr, err := c.ImageSave(ctx, []string{"a", "b:1"})
	if err != nil {
		t.Fatal(err)
	}
	tarData, _ := io.ReadAll(sr)
	_ = sr.Close()
	if string(tarData) != "TAR" {
		t.Fatalf("save body %q", tarData)
	}
	ir, err := c.ImageImport(ctx, ImportSource{Reader: strings.NewReader("ROOTFS")}, ImportOptions{
		Repo: "mine:v2", Message: "hi", Changes: []string{"ENV A=1", "CMD sh"}, Platform: "linux/amd64",
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = ir.Close()
	ur, err := c.ImageImport(ctx, ImportSource{URL: "http://example.invalid/r.tar"}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = ur.Close()

	want := []string{
		`GET /v1.51/images/json?all=1&filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D`,
		`GET /v1.51/images/busybox/json?`,
		`POST /v1.51/images/busybox/tag?repo=docker.io%2Flibrary%2Fmine&tag=v1`,
		`DELETE /v1.51/images/busybox?force=1&noprune=1`,
		`POST /v1.51/images/prune?filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D`,
		`POST /v1.51/images/load?quiet=1 ct=application/x-tar body=TARDATA`,
		`GET /v1.51/images/get?names=a&names=b%3A1`,
		`POST /v1.51/images/create?changes=ENV+A%3D1&changes=CMD+sh&fromSrc=-&message=hi&platform=linux%2Famd64&repo=mine%3Av2 body=ROOTFS`,
		`POST /v1.51/images/create?fromSrc=http%3A%2F%2Fexample.invalid%2Fr.tar body=`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
