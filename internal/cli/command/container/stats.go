package container

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/spf13/cobra"
)

const defaultStatsFormat = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

// statsRefresh is how often the streaming display is redrawn.
const statsRefresh = 500 * time.Millisecond

// StatsHeader returns the column titles of stats rows.
func StatsHeader() map[string]string {
	return map[string]string{
		"Container": "CONTAINER",
		"ID":        "CONTAINER ID",
		"Name":      "NAME",
		"CPUPerc":   "CPU %",
		"MemUsage":  "MEM USAGE / LIMIT",
		"MemPerc":   "MEM %",
		"NetIO":     "NET I/O",
		"BlockIO":   "BLOCK I/O",
		"PIDs":      "PIDS",
	}
}

type statsOptions struct {
	containers []string
	all        bool
	noStream   bool
	noTrunc    bool
	format     string
}

func newStatsCommand(c *cli.Cli, use string) *cobra.Command {
	var o statsOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] [CONTAINER...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.containers = args
			return runStats(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "container stats, stats")
	flags := cmd.Flags()
	flags.BoolVarP(&o.all, "all", "a", false, "Show all containers (default shows just running)")
	flags.BoolVar(&o.noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	flags.BoolVar(&o.noTrunc, "no-trunc", false, "Do not truncate output")
	flags.StringVar(&o.format, "format", "", formatHelp)
	return cmd
}

// StatsRow is one line of `stats`: the last sample of one container.
type StatsRow struct {
	container string // as named on the command line, or the ID
	id, name  string
	trunc     bool
	valid     bool

	cpuPercent float64
	memory     float64
	memLimit   float64
	memPercent float64
	netRx      float64
	netTx      float64
	blockRead  float64
	blockWrite float64
	pids       uint64
}

// Container is the container as named on the command line (or its ID).
func (r *StatsRow) Container() string { return r.container }

// ID is the container ID, 12 digits unless --no-trunc.
func (r *StatsRow) ID() string {
	if r.trunc {
		return format.ShortID(r.id)
	}
	return r.id
}

// Name is the container's name.
func (r *StatsRow) Name() string {
	if n := strings.TrimPrefix(r.name, "/"); n != "" {
		return n
	}
	return "--"
}

// CPUPerc is the CPU usage in percent of one CPU.
func (r *StatsRow) CPUPerc() string {
	if !r.valid {
		return "--"
	}
	return fmt.Sprintf("%.2f%%", r.cpuPercent)
}

// MemUsage is the memory used and the limit.
func (r *StatsRow) MemUsage() string {
	if !r.valid {
		return "-- / --"
	}
	return units.BytesSize(r.memory) + " / " + units.BytesSize(r.memLimit)
}

// MemPerc is the memory used in percent of the limit.
func (r *StatsRow) MemPerc() string {
	if !r.valid {
		return "--"
	}
	return fmt.Sprintf("%.2f%%", r.memPercent)
}

// NetIO is the bytes received and sent over all networks.
func (r *StatsRow) NetIO() string {
	if !r.valid {
		return "-- / --"
	}
	return units.HumanSizeWithPrecision(r.netRx, 3) + " / " + units.HumanSizeWithPrecision(r.netTx, 3)
}

// BlockIO is the bytes read from and written to block devices.
func (r *StatsRow) BlockIO() string {
	if !r.valid {
		return "-- / --"
	}
	return units.HumanSizeWithPrecision(r.blockRead, 3) + " / " + units.HumanSizeWithPrecision(r.blockWrite, 3)
}

// PIDs is the number of processes.
func (r *StatsRow) PIDs() string {
	if !r.valid {
		return "--"
	}
	return fmt.Sprintf("%d", r.pids)
}

// MarshalJSON encodes the row as docker's --format json does: every field as a string.
func (r *StatsRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }

// setSample fills r from one stats sample.
func (r *StatsRow) setSample(s container.StatsResponse) {
	if s.ID != "" {
		r.id = s.ID
	}
	if s.Name != "" {
		r.name = s.Name
	}
	r.valid = true
	r.cpuPercent = cpuPercent(s)
	r.memory = memoryUsage(s.MemoryStats)
	r.memLimit = float64(s.MemoryStats.Limit)
	r.memPercent = 0
	if r.memLimit != 0 {
		r.memPercent = r.memory / r.memLimit * 100
	}
	r.netRx, r.netTx = 0, 0
	for _, n := range s.Networks {
		r.netRx += float64(n.RxBytes)
		r.netTx += float64(n.TxBytes)
	}
	r.blockRead, r.blockWrite = 0, 0
	for _, e := range s.BlkioStats.IoServiceBytesRecursive {
		switch {
		case strings.HasPrefix(strings.ToLower(e.Op), "r"):
			r.blockRead += float64(e.Value)
		case strings.HasPrefix(strings.ToLower(e.Op), "w"):
			r.blockWrite += float64(e.Value)
		}
	}
	r.pids = s.PidsStats.Current
}

// cpuPercent is the share of the host's CPU time the container used between the previous
// reading and this one, times the number of CPUs (100% is one CPU busy).
func cpuPercent(s container.StatsResponse) float64 {
	cpuDelta := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
	systemDelta := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
	cpus := float64(s.CPUStats.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(s.CPUStats.CPUUsage.PercpuUsage))
	}
	if systemDelta > 0 && cpuDelta > 0 {
		return cpuDelta / systemDelta * cpus * 100
	}
	return 0
}

// memoryUsage is the memory used without the page cache that can be dropped (inactive files).
func memoryUsage(m container.MemoryStats) float64 {
	if v, ok := m.Stats["total_inactive_file"]; ok && v < m.Usage { // cgroup v1
		return float64(m.Usage - v)
	}
	if v := m.Stats["inactive_file"]; v < m.Usage { // cgroup v2
		return float64(m.Usage - v)
	}
	return float64(m.Usage)
}

// statsCollector follows the stats of one container.
type statsCollector struct {
	mu    sync.Mutex
	row   StatsRow
	err   error
	first chan struct{} // closed at the first sample or failure
	once  sync.Once
}

func (s *statsCollector) done() { s.once.Do(func() { close(s.first) }) }

func (s *statsCollector) snapshot() (StatsRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.row, s.err
}

func (s *statsCollector) collect(ctx context.Context, cl *client.Client, stream bool) {
	defer s.done()
	resp, err := cl.ContainerStats(ctx, s.row.container, stream)
	if err != nil {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		return
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var sample container.StatsResponse
		if err := dec.Decode(&sample); err != nil {
			s.mu.Lock()
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				s.err = err
			}
			if stream {
				// The container stopped: show it without figures.
				s.row.valid = false
			}
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		s.row.setSample(sample)
		s.mu.Unlock()
		s.done()
	}
}

func runStats(ctx context.Context, c *cli.Cli, o statsOptions) error {
	var collectors []*statsCollector
	add := func(ref, id, name string) {
		collectors = append(collectors, &statsCollector{
			row:   StatsRow{container: ref, id: id, name: name, trunc: !o.noTrunc},
			first: make(chan struct{}),
		})
	}
	if len(o.containers) > 0 {
		for _, ref := range o.containers {
			add(ref, ref, "")
		}
	} else {
		list, err := c.Client().ContainerList(ctx, client.ListOptions{All: o.all})
		if err != nil {
			return err
		}
		for _, s := range list {
			name := ""
			if len(s.Names) > 0 {
				name = s.Names[0]
			}
			add(s.ID, s.ID, name)
		}
	}

	text := o.format
	if text == "" {
		text = format.TableKey
	}
	f := format.Format(text)
	if f.IsBareTable() {
		f = defaultStatsFormat
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, s := range collectors {
		go s.collect(ctx, c.Client(), !o.noStream)
	}
	for _, s := range collectors {
		select {
		case <-s.first:
		case <-ctx.Done():
			return nil
		}
	}

	render := func() ([]byte, error) {
		var rows []any
		var failures []string
		for _, s := range collectors {
			row, err := s.snapshot()
			if err != nil && len(o.containers) > 0 {
				failures = append(failures, cli.ErrorText(err))
				continue
			}
			rows = append(rows, &row)
		}
		if len(failures) > 0 {
			return nil, errors.New(strings.Join(failures, "\n"))
		}
		var buf bytes.Buffer
		if err := format.Write(&buf, f, StatsHeader(), rows); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}

	if o.noStream {
		out, err := render()
		if err != nil {
			return err
		}
		_, err = c.Out().Write(out)
		return err
	}
	ticker := time.NewTicker(statsRefresh)
	defer ticker.Stop()
	for {
		out, err := render()
		if err != nil {
			return err
		}
		if c.Out().IsTerminal() {
			// Clear the screen and draw from the top.
			_, _ = io.WriteString(c.Out(), "\033[2J\033[H")
		}
		if _, err := c.Out().Write(out); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}
