package shim_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/shim"
	"github.com/berth-project/berth/internal/shim/wire"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func streamOf(i int) string {
	if i%2 == 1 {
		return "stderr"
	}
	return "stdout"
}

func appendEntries(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b []byte
	for i := from; i < to; i++ {
		b = wire.AppendLogEntry(b, []byte("msg "+strconv.Itoa(i)+"\n"), nil, streamOf(i), t0.Add(time.Duration(i)*time.Second))
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func collect(t *testing.T, ch <-chan shim.LogEntry) []int {
	t.Helper()
	var out []int
	for e := range ch {
		if e.Err != nil {
			t.Fatal(e.Err)
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(string(e.Line), "msg "), "\n"))
		if err != nil {
			t.Fatalf("entry %q", e.Line)
		}
		if e.Stream != streamOf(n) || !e.Time.Equal(t0.Add(time.Duration(n)*time.Second)) {
			t.Fatalf("entry %d: stream %s time %v", n, e.Stream, e.Time)
		}
		out = append(out, n)
	}
	return out
}

func seq(from, to, step int) []int {
	var out []int
	for i := from; i < to; i += step {
		out = append(out, i)
	}
	return out
}

func TestReadLogsSelect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	appendEntries(t, path+".2", 0, 10)
	appendEntries(t, path+".1", 10, 20)
	appendEntries(t, path, 20, 30)
	// A line the writer has not finished is not returned.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"log":"half`)
	f.Close()

	for _, tc := range []struct {
		name string
		opts shim.LogOptions
		want []int
	}{
		{"all", shim.LogOptions{Tail: -1}, seq(0, 30, 1)},
		{"tail", shim.LogOptions{Tail: 5}, seq(25, 30, 1)},
		{"tail across files", shim.LogOptions{Tail: 15}, seq(15, 30, 1)},
		{"tail more than there is", shim.LogOptions{Tail: 100}, seq(0, 30, 1)},
		{"tail zero", shim.LogOptions{Tail: 0}, nil},
		{"stderr tail", shim.LogOptions{Tail: 5, Stderr: true}, seq(21, 30, 2)},
		{"stdout", shim.LogOptions{Tail: -1, Stdout: true}, seq(0, 30, 2)},
		{"since", shim.LogOptions{Tail: -1, Since: t0.Add(15 * time.Second)}, seq(15, 30, 1)},
		{"until", shim.LogOptions{Tail: -1, Until: t0.Add(12 * time.Second)}, seq(0, 13, 1)},
		{"since until tail", shim.LogOptions{Tail: 2, Since: t0.Add(3 * time.Second), Until: t0.Add(8 * time.Second)}, seq(7, 9, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := shim.ReadLogs(context.Background(), path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := collect(t, ch); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := shim.ReadLogs(context.Background(), path+".missing", shim.LogOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing log: %v", err)
	}
}

func TestReadLogsFollowThroughRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "logs", "c-json.log")
	state := filepath.Join(dir, "state")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.MkdirAll(state, 0o755)
	appendEntries(t, path, 0, 3)

	rotate := func() {
		os.Remove(path + ".2")
		os.Rename(path+".1", path+".2")
		if err := os.Rename(path, path+".1"); err != nil {
			t.Error(err)
		}
	}
	for _, tail := range []int{-1, 1} {
		t.Run(strconv.Itoa(tail), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			os.Remove(filepath.Join(state, wire.ExitFile))
			ch, err := shim.ReadLogs(ctx, path, shim.LogOptions{Follow: true, Tail: tail, StateDir: state})
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan []int, 1)
			go func() { got <- collect(t, ch) }()
			if tail == -1 {
				time.Sleep(50 * time.Millisecond)
				appendEntries(t, path, 3, 6)
				time.Sleep(50 * time.Millisecond)
				rotate()
				appendEntries(t, path, 6, 9)
				// Two rotations in a row, faster than the reader looks.
				rotate()
				appendEntries(t, path, 9, 12)
				rotate()
				appendEntries(t, path, 12, 15)
				time.Sleep(50 * time.Millisecond)
				appendEntries(t, path, 15, 16)
			}
			os.WriteFile(filepath.Join(state, wire.ExitFile), []byte(`{"exit_code":0}`), 0o644)
			var want []int
			if tail == -1 {
				want = seq(0, 16, 1)
			} else {
				want = []int{15}
			}
			select {
			case g := <-got:
				if fmt.Sprint(g) != fmt.Sprint(want) {
					t.Fatalf("followed %v, want %v", g, want)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("follow did not stop after exit.json appeared")
			}
		})
	}
}

func TestReadLogsFollowStopsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	appendEntries(t, path, 0, 2)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := shim.ReadLogs(ctx, path, shim.LogOptions{Follow: true, Tail: -1})
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	<-ch
	go func() {
		time.Sleep(100 * time.Millisecond)
		appendEntries(t, path, 2, 3)
	}()
	select {
	case e := <-ch:
		if string(e.Line) != "msg 2\n" {
			t.Fatalf("got %q", e.Line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("appended entry not followed")
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("entry after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after cancel")
	}
}

// fakeShim is a process whose command line looks like a shim's for dir.
func fakeShim(t *testing.T, dir string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", "-c", "sleep 30", "berth-shim", "--state-dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	os.WriteFile(filepath.Join(dir, wire.ShimPidFile), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	os.WriteFile(filepath.Join(dir, wire.InitPidFile), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	return cmd
}

func TestWaitExitWakesOnExitFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := shim.WaitExit(context.Background(), dir); !errors.Is(err, shim.ErrNoShim) {
		t.Fatalf("empty dir: %v", err)
	}
	fakeShim(t, dir)
	if running, _, _, err := shim.Status(dir); err != nil || !running {
		t.Fatalf("Status = %v, %v", running, err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		os.WriteFile(filepath.Join(dir, ".tmp"), []byte(`{"exit_code":42,"finished_at":"2026-01-01T00:00:00Z","oom_killed":true}`), 0o644)
		os.Rename(filepath.Join(dir, ".tmp"), filepath.Join(dir, wire.ExitFile))
	}()
	start := time.Now()
	es, err := shim.WaitExit(context.Background(), dir)
	if err != nil || es.ExitCode != 42 || !es.OOMKilled {
		t.Fatalf("WaitExit = %+v, %v", es, err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("WaitExit took %v after the file appeared at 300ms", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if es, err := shim.WaitExit(ctx, dir); err != nil || es.ExitCode != 42 {
		t.Fatalf("second WaitExit = %+v, %v", es, err)
	}
}

func TestWaitExitShimGone(t *testing.T) {
	dir := t.TempDir()
	cmd := fakeShim(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := shim.WaitExit(ctx, dir); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitExit while alive = %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := shim.WaitExit(context.Background(), dir); !errors.Is(err, shim.ErrShimGone) {
		t.Fatalf("WaitExit after the shim died = %v", err)
	}
	if running, _, _, err := shim.Status(dir); running || !errors.Is(err, shim.ErrShimGone) {
		t.Fatalf("Status = %v, %v", running, err)
	}
}
