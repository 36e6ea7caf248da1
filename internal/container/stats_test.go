package container

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/moby/moby/api/types/container"
)

const procStatData = `cpu  100 5 50 1000 10 2 3 7 0 0
cpu0 50 2 25 500 5 1 1 3 0 0
cpu1 50 3 25 500 5 1 2 4 0 0
intr 12345 0 0
ctxt 999
btime 1700000000
processes 42
`

func TestParseProcStat(t *testing.T) {
	total, online := parseProcStat(procStatData)
	// 100+5+50+1000+10+2+3 ticks; steal and guest are left out like docker does.
	if want := uint64(1170) * 10_000_000; total != want {
		t.Errorf("system usage = %d, want %d", total, want)
	}
	if online != 2 {
		t.Errorf("online cpus = %d, want 2", online)
	}
}

func TestParseCPUAcctStat(t *testing.T) {
	user, sys := parseCPUAcctStat("user 250\nsystem 40\n")
	if user != 2_500_000_000 || sys != 400_000_000 {
		t.Errorf("got user=%d system=%d", user, sys)
	}
}

func TestParseCPUStatV2(t *testing.T) {
	u, th := parseCPUStatV2("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n")
	if want := (container.CPUUsage{TotalUsage: 1_500_000, UsageInUsermode: 1_000_000, UsageInKernelmode: 500_000}); !reflect.DeepEqual(u, want) {
		t.Errorf("usage = %+v, want %+v", u, want)
	}
	if want := (container.ThrottlingData{Periods: 4, ThrottledPeriods: 1, ThrottledTime: 20_000}); th != want {
		t.Errorf("throttling = %+v, want %+v", th, want)
	}
	// v1's cpu.stat reports throttled_time in nanoseconds already.
	_, th = parseCPUStatV2("nr_periods 3\nnr_throttled 2\nthrottled_time 777\n")
	if want := (container.ThrottlingData{Periods: 3, ThrottledPeriods: 2, ThrottledTime: 777}); th != want {
		t.Errorf("v1 throttling = %+v, want %+v", th, want)
	}
}

func TestParseMemoryStat(t *testing.T) {
	v1 := "cache 4096\nrss 8192\nmapped_file 0\ntotal_inactive_file 1024\nhierarchical_memory_limit 67108864\n"
	got := parseFlatKeyed(v1)
	want := map[string]uint64{"cache": 4096, "rss": 8192, "mapped_file": 0, "total_inactive_file": 1024, "hierarchical_memory_limit": 67108864}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v1 = %v, want %v", got, want)
	}
	v2 := "anon 12288\nfile 4096\ninactive_file 2048\nbogus line here\npgfault x\n"
	got = parseFlatKeyed(v2)
	want = map[string]uint64{"anon": 12288, "file": 4096, "inactive_file": 2048}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v2 = %v, want %v", got, want)
	}
}

func TestParseBlkioV1(t *testing.T) {
	got := parseBlkioV1("8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:0 Async 4608\n8:0 Discard 0\n8:0 Total 4608\nTotal 4608\n")
	want := []container.BlkioStatEntry{
		{Major: 8, Minor: 0, Op: "Read", Value: 4096},
		{Major: 8, Minor: 0, Op: "Write", Value: 512},
		{Major: 8, Minor: 0, Op: "Sync", Value: 0},
		{Major: 8, Minor: 0, Op: "Async", Value: 4608},
		{Major: 8, Minor: 0, Op: "Discard", Value: 0},
		{Major: 8, Minor: 0, Op: "Total", Value: 4608},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if got := parseBlkioV1("Total 0\n"); got != nil {
		t.Errorf("empty file gave %+v", got)
	}
}

func TestParseIOStat(t *testing.T) {
	b, ios := parseIOStat("259:0 rbytes=1024 wbytes=2048 rios=3 wios=4 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=0 rios=1 wios=0\n")
	wantB := []container.BlkioStatEntry{
		{Major: 259, Minor: 0, Op: "read", Value: 1024}, {Major: 259, Minor: 0, Op: "write", Value: 2048},
		{Major: 8, Minor: 16, Op: "read", Value: 1}, {Major: 8, Minor: 16, Op: "write", Value: 0},
	}
	wantIO := []container.BlkioStatEntry{
		{Major: 259, Minor: 0, Op: "read", Value: 3}, {Major: 259, Minor: 0, Op: "write", Value: 4},
		{Major: 8, Minor: 16, Op: "read", Value: 1}, {Major: 8, Minor: 16, Op: "write", Value: 0},
	}
	if !reflect.DeepEqual(b, wantB) || !reflect.DeepEqual(ios, wantIO) {
		t.Errorf("bytes=%+v ios=%+v", b, ios)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSampleV1(t *testing.T) {
	root := t.TempDir()
	id := "abc"
	writeFiles(t, root, map[string]string{
		"proc/stat":                                               procStatData,
		"proc/meminfo":                                            "MemTotal:       2048000 kB\nMemFree: 1 kB\n",
		"cg/cpuacct/berth/abc/cpuacct.usage":                      "123456789\n",
		"cg/cpuacct/berth/abc/cpuacct.stat":                       "user 10\nsystem 2\n",
		"cg/cpuacct/berth/abc/cpuacct.usage_percpu":               "100000000 23456789 \n",
		"cg/memory/berth/abc/memory.usage_in_bytes":               "1048576\n",
		"cg/memory/berth/abc/memory.limit_in_bytes":               "67108864\n",
		"cg/memory/berth/abc/memory.stat":                         "cache 0\nrss 4096\ntotal_inactive_file 0\n",
		"cg/pids/berth/abc/pids.current":                          "1\n",
		"cg/pids/berth/abc/pids.max":                              "max\n",
		"cg/blkio/berth/abc/blkio.throttle.io_service_bytes":      "8:0 Read 10\nTotal 10\n",
		"cg/blkio/berth/abc/blkio.throttle.io_serviced_recursive": "8:0 Read 1\nTotal 1\n",
	})
	cg := &cgroupStats{root: filepath.Join(root, "cg"), procStat: filepath.Join(root, "proc/stat"), meminfo: filepath.Join(root, "proc/meminfo")}
	st := cg.sample(id)
	if st.CPUStats.CPUUsage.TotalUsage != 123456789 || st.CPUStats.CPUUsage.UsageInUsermode != 100_000_000 || st.CPUStats.CPUUsage.UsageInKernelmode != 20_000_000 {
		t.Errorf("cpu = %+v", st.CPUStats.CPUUsage)
	}
	if len(st.CPUStats.CPUUsage.PercpuUsage) != 2 || st.CPUStats.OnlineCPUs != 2 || st.CPUStats.SystemUsage == 0 {
		t.Errorf("cpu stats = %+v", st.CPUStats)
	}
	if st.MemoryStats.Usage != 1048576 || st.MemoryStats.Limit != 67108864 || st.MemoryStats.Stats["rss"] != 4096 {
		t.Errorf("memory = %+v", st.MemoryStats)
	}
	if st.PidsStats.Current != 1 || st.PidsStats.Limit != 0 {
		t.Errorf("pids = %+v", st.PidsStats)
	}
	if len(st.BlkioStats.IoServiceBytesRecursive) != 1 || st.BlkioStats.IoServiceBytesRecursive[0].Value != 10 || len(st.BlkioStats.IoServicedRecursive) != 1 {
		t.Errorf("blkio = %+v", st.BlkioStats)
	}

	// Unlimited memory shows as the host's total.
	writeFiles(t, root, map[string]string{"cg/memory/berth/abc/memory.limit_in_bytes": "9223372036854771712\n"})
	if got := cg.sample(id).MemoryStats.Limit; got != 2048000*1024 {
		t.Errorf("unlimited limit = %d", got)
	}
}

func TestSampleV2(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"meminfo":                   "MemTotal:       1000 kB\n",
		"cg/berth/x/cpu.stat":       "usage_usec 10\nuser_usec 6\nsystem_usec 4\n",
		"cg/berth/x/memory.current": "4096\n",
		"cg/berth/x/memory.max":     "max\n",
		"cg/berth/x/memory.stat":    "anon 4096\nfile 0\ninactive_file 0\n",
		"cg/berth/x/pids.current":   "3\n",
		"cg/berth/x/pids.max":       "100\n",
		"cg/berth/x/io.stat":        "8:0 rbytes=5 wbytes=6 rios=1 wios=1\n",
	})
	cg := &cgroupStats{root: filepath.Join(root, "cg"), v2: true, procStat: filepath.Join(root, "nostat"), meminfo: filepath.Join(root, "meminfo")}
	st := cg.sample("x")
	if st.CPUStats.CPUUsage.TotalUsage != 10_000 || st.CPUStats.CPUUsage.UsageInKernelmode != 4_000 {
		t.Errorf("cpu = %+v", st.CPUStats.CPUUsage)
	}
	if st.MemoryStats.Usage != 4096 || st.MemoryStats.Limit != 1000*1024 || st.MemoryStats.Stats["anon"] != 4096 {
		t.Errorf("memory = %+v", st.MemoryStats)
	}
	if st.PidsStats != (container.PidsStats{Current: 3, Limit: 100}) {
		t.Errorf("pids = %+v", st.PidsStats)
	}
	if len(st.BlkioStats.IoServiceBytesRecursive) != 2 {
		t.Errorf("blkio = %+v", st.BlkioStats)
	}
}
