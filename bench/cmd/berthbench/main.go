// Command berthbench measures berthd side by side with dockerd (when it is
// installed): daemon start time, idle memory, image load/save throughput
// through the Engine API on a unix socket, container latencies, and push/pull of
// the big image to and from a local docker-registry (when installed).
//
// Every daemon runs with its own data root, exec root and socket in a fresh
// directory under $TMPDIR; the bench stops each daemon and its children,
// detaches any mounts left below that directory and removes it before exiting.
//
//	go run ./bench/cmd/berthbench [-n 10] [-rounds 3] [-big-mb 100]
//
// It needs root (both daemons do) and a static busybox (busybox-static) for the fixture images.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/berth-project/berth/internal/fixture"
)

type options struct {
	starts  int
	rounds  int
	bigMB   int
	settle  time.Duration
	timeout time.Duration
	berthd  string
	dockerd string
	busybox string
	engines []string
	stdout  io.Writer
	runs    int  // `docker run --rm` timings
	ctrs    int  // detached containers started together
	noCtr   bool // skip the container measurements
}

// archive is one image tar fed to both engines.
type archive struct {
	label string
	ref   string
	data  []byte
}

// result holds one engine's figures; a zero value means "not measured".
type result struct {
	apiVersion string
	starts     []time.Duration
	rss        int64
	load       map[string]float64 // archive label -> MB/s (median)
	save       map[string]float64
	ctr        *containerResult
	reg        *registryResult
	build      *buildResult
	errs       []error
}

func main() {
	os.Exit(run())
}

func run() int {
	o := options{stdout: os.Stdout}
	defBerthd := os.Getenv("BERTHD_BIN")
	if defBerthd == "" {
		defBerthd = "./bin/berthd"
	}
	var engines string
	flag.IntVar(&o.starts, "n", 10, "daemon starts to time (median is reported)")
	flag.IntVar(&o.rounds, "rounds", 3, "loads and saves per image (median is reported)")
	flag.IntVar(&o.bigMB, "big-mb", 100, "random payload of the big image, in MB (0 skips it)")
	flag.DurationVar(&o.settle, "settle", 2*time.Second, "wait after start before reading idle RSS")
	flag.DurationVar(&o.timeout, "timeout", 60*time.Second, "limit for one daemon start or one API call")
	flag.StringVar(&o.berthd, "berthd", defBerthd, "berthd binary (env BERTHD_BIN)")
	flag.StringVar(&o.dockerd, "dockerd", "/usr/sbin/dockerd", "dockerd binary; skipped when absent")
	flag.StringVar(&o.busybox, "busybox", fixture.DefaultBusyboxPath, "static busybox for the fixture images")
	flag.IntVar(&o.runs, "runs", 15, "`docker run --rm busybox true` commands to time (median is reported)")
	flag.IntVar(&o.ctrs, "containers", 50, "detached `sleep 300` containers to start, measure and remove")
	flag.BoolVar(&o.noCtr, "no-containers", false, "skip the container measurements (they need the docker CLI on PATH)")
	flag.StringVar(&engines, "engines", "berth,berth-crun,docker,podman", "comma-separated engines to measure (berth-crun: berthd with crun as the default runtime; podman: its own CLI, container rows only)")
	flag.Parse()
	o.engines = strings.Split(engines, ",")
	if o.starts < 1 || o.rounds < 1 || o.runs < 1 || o.ctrs < 1 {
		fmt.Fprintln(os.Stderr, "berthbench: -n, -rounds, -runs and -containers must be at least 1")
		return 2
	}
	if !o.noCtr {
		if _, err := exec.LookPath("docker"); err != nil {
			fmt.Fprintln(os.Stderr, "berthbench: the docker CLI is not on PATH (needed for the container figures; -no-containers skips them)")
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	archives, err := makeArchives(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "berthbench:", err)
		return 1
	}

	var (
		names   []string
		results = map[string]*result{}
		notes   []string
	)
	for _, name := range o.engines {
		var eng engine
		switch strings.TrimSpace(name) {
		case "berth":
			bin, err := filepath.Abs(o.berthd)
			if err == nil {
				_, err = os.Stat(bin)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "berthbench: berthd not usable at %s: %v (run `make build` or set BERTHD_BIN)\n", o.berthd, err)
				return 1
			}
			eng = berthEngine(bin)
		case "berth-crun":
			bin, err := filepath.Abs(o.berthd)
			if err != nil {
				return 1
			}
			if _, err := exec.LookPath("crun"); err != nil {
				notes = append(notes, "berth-crun: crun is not installed")
				continue
			}
			eng = berthEngine(bin, "--default-runtime", "crun")
			eng.name = "berth-crun"
		case "podman":
			if o.noCtr {
				continue
			}
			bin, err := exec.LookPath("podman")
			if err != nil {
				notes = append(notes, "podman: not installed; not measured")
				continue
			}
			fmt.Fprintf(os.Stderr, "berthbench: measuring podman (%s, its own CLI; container rows only)\n", bin)
			names = append(names, "podman")
			results["podman"] = measurePodman(ctx, o, bin, archives[0].data)
			continue
		case "docker":
			if _, err := os.Stat(o.dockerd); err != nil {
				notes = append(notes, fmt.Sprintf("docker: dockerd not found at %s; only berth was measured", o.dockerd))
				continue
			}
			eng = dockerEngine(o.dockerd)
		case "":
			continue
		default:
			fmt.Fprintf(os.Stderr, "berthbench: unknown engine %q (want berth, berth-crun, docker or podman)\n", name)
			return 2
		}
		fmt.Fprintf(os.Stderr, "berthbench: measuring %s (%s)\n", eng.name, eng.bin)
		names = append(names, eng.name)
		results[eng.name] = measure(ctx, o, eng, archives)
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "berthbench: interrupted")
			return 130
		}
	}

	report(o, names, results, archives, notes)
	for _, n := range names {
		if len(results[n].errs) > 0 {
			return 1
		}
	}
	return 0
}

func makeArchives(o options) ([]archive, error) {
	var out []archive
	small, err := buildArchive(fixture.Options{BusyboxPath: o.busybox})
	if err != nil {
		return nil, err
	}
	out = append(out, archive{label: "busybox", ref: "busybox:latest", data: small})
	if o.bigMB > 0 {
		// Random data does not compress, so neither engine can shortcut it; a
		// fixed seed keeps the image (and its ID) the same from run to run.
		rng := rand.New(rand.NewChaCha8([32]byte{'b', 'e', 'r', 't', 'h'}))
		const parts = 4
		extra := map[string][]byte{}
		total := o.bigMB * 1000 * 1000
		for i := 0; i < parts; i++ {
			buf := make([]byte, total/parts)
			for j := 0; j+8 <= len(buf); j += 8 {
				v := rng.Uint64()
				for k := 0; k < 8; k++ {
					buf[j+k] = byte(v >> (8 * k))
				}
			}
			extra[fmt.Sprintf("bench/random-%d.bin", i)] = buf
		}
		big, err := buildArchive(fixture.Options{
			BusyboxPath: o.busybox,
			RepoTags:    []string{"berthbench-big:latest"},
			ExtraFiles:  extra,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, archive{label: fmt.Sprintf("%d MB", o.bigMB), ref: "berthbench-big:latest", data: big})
	}
	return out, nil
}

func buildArchive(opts fixture.Options) ([]byte, error) {
	img, err := fixture.Build(opts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := img.WriteArchive(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// measure runs every measurement for one engine; errors are collected, not fatal.
func measure(ctx context.Context, o options, eng engine, archives []archive) *result {
	r := &result{load: map[string]float64{}, save: map[string]float64{}}
	fail := func(format string, args ...any) { r.errs = append(r.errs, fmt.Errorf(format, args...)) }

	for i := 0; i < o.starts && ctx.Err() == nil; i++ {
		d, took, err := startDaemon(ctx, eng, o.timeout)
		if err != nil {
			fail("start %d: %w", i+1, err)
			return r
		}
		r.starts = append(r.starts, took)
		r.apiVersion = d.api.version
		for _, err := range d.stop() {
			fail("stop: %w", err)
		}
	}

	d, _, err := startDaemon(ctx, eng, o.timeout)
	if err != nil {
		fail("start: %w", err)
		return r
	}
	defer func() {
		for _, err := range d.stop() {
			fail("stop: %w", err)
		}
	}()

	select {
	case <-time.After(o.settle):
	case <-ctx.Done():
		return r
	}
	if rss, err := d.rss(); err != nil {
		fail("rss: %w", err)
	} else {
		r.rss = rss
	}

	for _, a := range archives {
		var loads, saves []float64
		for i := 0; i < o.rounds && ctx.Err() == nil; i++ {
			if i > 0 {
				if err := d.api.remove(ctx, a.ref); err != nil {
					fail("%s: %w", a.label, err)
					break
				}
			}
			cctx, cancel := context.WithTimeout(ctx, o.timeout)
			begin := time.Now()
			err := d.api.load(cctx, a.data)
			took := time.Since(begin)
			cancel()
			if err != nil {
				fail("load %s: %w", a.label, err)
				break
			}
			loads = append(loads, mbPerSec(int64(len(a.data)), took))
		}
		if len(loads) == 0 {
			continue
		}
		r.load[a.label] = median(loads)
		for i := 0; i < o.rounds && ctx.Err() == nil; i++ {
			cctx, cancel := context.WithTimeout(ctx, o.timeout)
			begin := time.Now()
			n, err := d.api.save(cctx, a.ref)
			took := time.Since(begin)
			cancel()
			if err != nil {
				fail("save %s: %w", a.label, err)
				break
			}
			saves = append(saves, mbPerSec(n, took))
		}
		if len(saves) > 0 {
			r.save[a.label] = median(saves)
		}
		if err := d.api.remove(ctx, a.ref); err != nil {
			fail("%s: %w", a.label, err)
		}
	}
	if !o.noCtr && ctx.Err() == nil {
		r.ctr = measureContainers(ctx, o, d, archives[0].data, fail)
		r.build = measureBuild(ctx, o, d, archives[0].data, fail)
		if len(archives) > 1 {
			r.reg = measureRegistry(ctx, o, d, archives[1], fail)
		}
	}
	return r
}

func mbPerSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		d = time.Nanosecond
	}
	return float64(n) / 1e6 / d.Seconds()
}

func median[T float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// row is one line of the table: a formatter per engine and the raw values for the ratio.
type row struct {
	metric string
	cell   func(r *result) (string, float64, bool)
}

func report(o options, names []string, results map[string]*result, archives []archive, notes []string) {
	rows := []row{
		{"daemon start to /_ping 200 (median of " + fmt.Sprint(o.starts) + ")", func(r *result) (string, float64, bool) {
			if len(r.starts) == 0 {
				return "-", 0, false
			}
			m := median(r.starts)
			return fmt.Sprintf("%.1f ms (%.1f-%.1f)", ms(m), ms(slices.Min(r.starts)), ms(slices.Max(r.starts))), ms(m), true
		}},
		{"idle RSS (daemon + children)", func(r *result) (string, float64, bool) {
			if r.rss == 0 {
				return "-", 0, false
			}
			mib := float64(r.rss) / (1 << 20)
			return fmt.Sprintf("%.1f MiB", mib), mib, true
		}},
	}
	if !o.noCtr {
		rows = append(rows, containerRows(o)...)
		rows = append(rows, buildRows(o.rounds)...)
		if len(archives) > 1 {
			rows = append(rows, registryRows(archives[1].label+" image", o.rounds)...)
		}
	}
	for _, a := range archives {
		label := fmt.Sprintf("%s, %.1f MB", a.label, float64(len(a.data))/1e6)
		if a.label != "busybox" {
			label = fmt.Sprintf("%.1f MB", float64(len(a.data))/1e6)
		}
		rows = append(rows,
			row{"image load " + label + " (MB/s)", throughput(func(r *result) map[string]float64 { return r.load }, a.label)},
			row{"image save " + label + " (MB/s)", throughput(func(r *result) map[string]float64 { return r.save }, a.label)},
		)
	}

	w := tabwriter.NewWriter(o.stdout, 2, 4, 2, ' ', 0)
	header := []string{"metric"}
	header = append(header, names...)
	for _, n := range names[min(1, len(names)):] {
		header = append(header, n+"/"+names[0])
	}
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, rw := range rows {
		cells := []string{rw.metric}
		var vals []float64
		okAll := true
		for _, n := range names {
			s, v, ok := rw.cell(results[n])
			cells = append(cells, s)
			vals = append(vals, v)
			okAll = okAll && ok
		}
		for i := 1; i < len(names); i++ {
			if okAll && vals[0] != 0 {
				cells = append(cells, fmt.Sprintf("%.2fx", vals[i]/vals[0]))
			} else {
				cells = append(cells, "-")
			}
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	w.Flush()

	for _, n := range names {
		r := results[n]
		if r.apiVersion != "" {
			fmt.Fprintf(o.stdout, "%s: API %s\n", n, r.apiVersion)
		}
		for _, err := range r.errs {
			fmt.Fprintf(o.stdout, "%s: error: %v\n", n, err)
		}
	}
	for _, note := range notes {
		fmt.Fprintln(o.stdout, note)
	}
	if len(names) >= 2 {
		fmt.Fprintf(o.stdout, "ratio X/%s: above 1 means X took longer (time, memory) or moved more data per second (MB/s)\n", names[0])
	}
}

func throughput(pick func(*result) map[string]float64, label string) func(*result) (string, float64, bool) {
	return func(r *result) (string, float64, bool) {
		v, ok := pick(r)[label]
		if !ok {
			return "-", 0, false
		}
		return fmt.Sprintf("%.0f", v), v, true
	}
}

// spreadCell is the cell of a row of durations held in one part of an engine's result;
// part returns nil when that part was not measured.
func spreadCell[T any](part func(*result) *T, pick func(*T) []time.Duration) func(*result) (string, float64, bool) {
	return func(r *result) (string, float64, bool) {
		if p := part(r); p != nil {
			return spread(pick(p))
		}
		return "-", 0, false
	}
}

// spread formats durations as "median ms (min-max)" and returns the median for the ratio.
func spread(xs []time.Duration) (string, float64, bool) {
	if len(xs) == 0 {
		return "-", 0, false
	}
	m := median(xs)
	return fmt.Sprintf("%.0f ms (%.0f-%.0f)", ms(m), ms(slices.Min(xs)), ms(slices.Max(xs))), ms(m), true
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
