package container

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/cli/format"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

const (
	webID = "4f3c2b1a09876543210fedcba9876543210fedcba9876543210fedcba98765"
	dbID  = "9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877665544"
)

func sampleContainers(now time.Time) []container.Summary {
	return []container.Summary{
		{
			ID: webID, Names: []string{"/web", "/proxy/web-link"}, Image: "nginx:1.25", ImageID: "sha256:aaaa",
			Command: "/docker-entrypoint.sh nginx -g 'daemon off;'", Created: now.Add(-2 * time.Second).Unix(),
			State: container.StateRunning, Status: "Up 2 seconds",
			Ports: []container.PortSummary{
				{IP: netip.MustParseAddr("0.0.0.0"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
				{IP: netip.MustParseAddr("::"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
				{PrivatePort: 443, Type: "tcp"},
			},
			SizeRw: 1024, SizeRootFs: 190000000,
			Labels:          map[string]string{"tier": "front", "app": "web"},
			Mounts:          []container.MountPoint{{Type: mount.TypeVolume, Name: "0123456789abcdef0123456789", Driver: "local"}, {Type: mount.TypeBind, Source: "/srv"}},
			NetworkSettings: &container.NetworkSettingsSummary{Networks: map[string]*network.EndpointSettings{"bridge": {}, "backend": {}}},
		},
		{
			ID: dbID, Names: []string{"/db"}, Image: "sha256:" + strings.Repeat("b", 64), ImageID: "sha256:" + strings.Repeat("b", 64),
			Command: "true", Created: now.Add(-3 * time.Hour).Unix(),
			State: container.StateExited, Status: "Exited (0) 3 seconds ago",
		},
	}
}

func render(t *testing.T, f format.Format, rows []any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := format.Write(&buf, f, PsHeader(), rows); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPsTable(t *testing.T) {
	list := sampleContainers(time.Now())
	got := render(t, psFormat("table", false, false), PsRows(list, true))
	want := "" +
		"CONTAINER ID   IMAGE          COMMAND                  CREATED         STATUS                     PORTS                                              NAMES\n" +
		"4f3c2b1a0987   nginx:1.25     \"/docker-entrypoint.…\"   2 seconds ago   Up 2 seconds               443/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp   web\n" +
		"9d8c7b6a5f4e   bbbbbbbbbbbb   \"true\"                   3 hours ago     Exited (0) 3 seconds ago                                                      db\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}

	got = render(t, psFormat("table", false, true), PsRows(list, true))
	if !strings.HasPrefix(got, "CONTAINER ID   IMAGE          COMMAND                  CREATED         STATUS                     PORTS                                              NAMES     SIZE\n") ||
		!strings.Contains(got, "   web       1.02kB (virtual 190MB)\n") || !strings.HasSuffix(got, "   db        0B\n") {
		t.Errorf("-s table:\n%s", got)
	}

	got = render(t, psFormat("table", true, false), PsRows(list, true))
	if got != "4f3c2b1a0987\n9d8c7b6a5f4e\n" {
		t.Errorf("-q %q", got)
	}

	got = render(t, "{{.ID}}|{{.Names}}|{{.Command}}|{{.Image}}", PsRows(list, false))
	if got != webID+"|web,proxy/web-link|\"/docker-entrypoint.sh nginx -g 'daemon off;'\"|nginx:1.25\n"+
		dbID+"|db|\"true\"|sha256:"+strings.Repeat("b", 64)+"\n" {
		t.Errorf("--no-trunc %q", got)
	}

	got = render(t, "table {{.Names}}\t{{.Labels}}\t{{.Label \"tier\"}}\t{{.Mounts}}\t{{.LocalVolumes}}\t{{.Networks}}\t{{.State}}", PsRows(list[:1], true))
	if got != "NAMES     LABELS               TIER      MOUNTS                 LOCAL VOLUMES   NETWORKS         STATE\n"+
		"web       app=web,tier=front   front     0123456789abcd…,/srv   1               backend,bridge   running\n" {
		t.Errorf("extra columns:\n%s", got)
	}
}

func TestPsJSON(t *testing.T) {
	list := sampleContainers(time.Now())
	out := render(t, "json", PsRows(list, true))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("json: %q", out)
	}
	var row map[string]string
	if err := json.Unmarshal([]byte(lines[0]), &row); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"ID": "4f3c2b1a0987", "Names": "web", "Image": "nginx:1.25", "Status": "Up 2 seconds",
		"State": "running", "Command": `"/docker-entrypoint.…"`, "RunningFor": "2 seconds ago", "Size": "1.02kB (virtual 190MB)",
		"LocalVolumes": "1", "Networks": "backend,bridge"} {
		if row[k] != v {
			t.Errorf("json %s = %q, want %q", k, row[k], v)
		}
	}
}

func TestPsImageTruncation(t *testing.T) {
	digest := "@sha256:" + strings.Repeat("c", 64)
	for img, want := range map[string]string{
		"busybox":                           "busybox",
		"busybox:1.36" + digest:             "busybox:1.36",
		"registry.local:5000/app" + digest:  "registry.local:5000/app",
		"docker.io/library/alpine:3.19":     "alpine:3.19",
		"":                                  "<no image>",
		"sha256:" + strings.Repeat("d", 64): "dddddddddddd",
	} {
		r := &PsRow{c: container.Summary{Image: img, ImageID: "sha256:" + strings.Repeat("d", 64)}, trunc: true}
		if got := r.Image(); got != want {
			t.Errorf("Image(%q) = %q, want %q", img, got, want)
		}
	}
}

func TestDisplayablePorts(t *testing.T) {
	ip4 := netip.MustParseAddr("0.0.0.0")
	lo := netip.MustParseAddr("127.0.0.1")
	cases := []struct {
		ports []container.PortSummary
		want  string
	}{
		{nil, ""},
		{[]container.PortSummary{{PrivatePort: 80, Type: "tcp"}}, "80/tcp"},
		{[]container.PortSummary{{PrivatePort: 81, Type: "tcp"}, {PrivatePort: 80, Type: "tcp"}, {PrivatePort: 82, Type: "tcp"}, {PrivatePort: 53, Type: "udp"}},
			"53/udp, 80-82/tcp"},
		{[]container.PortSummary{
			{IP: ip4, PrivatePort: 8000, PublicPort: 8000, Type: "tcp"},
			{IP: ip4, PrivatePort: 8001, PublicPort: 8001, Type: "tcp"},
			{IP: ip4, PrivatePort: 8003, PublicPort: 8003, Type: "tcp"},
		}, "0.0.0.0:8000-8001->8000-8001/tcp, 0.0.0.0:8003->8003/tcp"},
		{[]container.PortSummary{{IP: lo, PrivatePort: 53, PublicPort: 5353, Type: "udp"}, {IP: ip4, PrivatePort: 22, PublicPort: 2222, Type: "tcp"}},
			"0.0.0.0:2222->22/tcp, 127.0.0.1:5353->53/udp"},
	}
	for _, c := range cases {
		if got := DisplayablePorts(c.ports); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestStatsRows(t *testing.T) {
	s := container.StatsResponse{
		ID: webID, Name: "/web",
		CPUStats:    container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 300}, SystemUsage: 2000, OnlineCPUs: 2},
		PreCPUStats: container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 100}, SystemUsage: 1000},
		MemoryStats: container.MemoryStats{Usage: 10 << 20, Limit: 100 << 20, Stats: map[string]uint64{"total_inactive_file": 2 << 20}},
		Networks:    map[string]container.NetworkStats{"eth0": {RxBytes: 1500, TxBytes: 500}, "eth1": {RxBytes: 500}},
		BlkioStats: container.BlkioStats{IoServiceBytesRecursive: []container.BlkioStatEntry{
			{Op: "Read", Value: 4096}, {Op: "write", Value: 1000000}, {Op: "Total", Value: 1}}},
		PidsStats: container.PidsStats{Current: 3},
	}
	row := StatsRow{container: "web", trunc: true}
	row.setSample(s)
	var buf bytes.Buffer
	if err := format.Write(&buf, defaultStatsFormat, StatsHeader(), []any{&row, &StatsRow{container: "db", id: dbID, name: "/db", trunc: true}}); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O      BLOCK I/O     PIDS\n" +
		"4f3c2b1a0987   web       40.00%    8MiB / 100MiB       8.00%     2kB / 500B   4.1kB / 1MB   3\n" +
		"9d8c7b6a5f4e   db        --        -- / --             --        -- / --      -- / --       --\n"
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}
