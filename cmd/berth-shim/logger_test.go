package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/shim/wire"
)

type entry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

func readEntries(t *testing.T, path string) []entry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

func TestJSONLogLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	l, err := openJSONLog(path, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	l.now = func() time.Time { return fixed }
	l.write(wire.Stdout, []byte("hello\nwor"))
	l.write(wire.Stderr, []byte("oops\n"))
	l.write(wire.Stdout, []byte("ld\n<tag> & \"q\" \x01\n"))
	l.write(wire.Stdout, []byte("tail without newline"))
	l.flush(wire.Stdout)
	l.flush(wire.Stderr)
	l.close()

	raw, _ := os.ReadFile(path)
	first := strings.SplitN(string(raw), "\n", 2)[0]
	if want := `{"log":"hello\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}`; first != want {
		t.Fatalf("first line\n%s\nwant\n%s", first, want)
	}
	got := readEntries(t, path)
	want := []entry{
		{"hello\n", "stdout", fixed}, {"oops\n", "stderr", fixed}, {"world\n", "stdout", fixed},
		{"<tag> & \"q\" \x01\n", "stdout", fixed}, {"tail without newline", "stdout", fixed},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i].Log != want[i].Log || got[i].Stream != want[i].Stream || !got[i].Time.Equal(want[i].Time) {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestJSONLogSplitsLongLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	l, err := openJSONLog(path, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 40*1024)
	// Arrives in odd-sized chunks, as from a pipe.
	data := []byte(long + "\nshort\n")
	for len(data) > 0 {
		n := min(len(data), 5000)
		l.write(wire.Stdout, data[:n])
		data = data[n:]
	}
	l.flush(wire.Stdout)
	l.close()
	got := readEntries(t, path)
	var lens []int
	for _, e := range got {
		lens = append(lens, len(e.Log))
	}
	want := []int{16384, 16384, 40*1024 - 32768 + 1, 6}
	if len(got) != 4 || lens[0] != want[0] || lens[1] != want[1] || lens[2] != want[2] || got[3].Log != "short\n" {
		t.Fatalf("entry lengths %v, want %v", lens, want)
	}
	if strings.Join([]string{got[0].Log, got[1].Log, got[2].Log}, "") != long+"\n" {
		t.Fatal("pieces do not add up to the line")
	}
}

func TestJSONLogRotation(t *testing.T) {
	for _, files := range []int{1, 3} {
		t.Run(strconv.Itoa(files), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.log")
			l, err := openJSONLog(path, 1000, files)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 200; i++ {
				l.write(wire.Stdout, []byte("line "+strconv.Itoa(i)+"\n"))
			}
			l.close()
			var names []string
			for i := 0; i < files+2; i++ {
				name := path
				if i > 0 {
					name += "." + strconv.Itoa(i)
				}
				st, err := os.Stat(name)
				if err != nil {
					continue
				}
				names = append(names, filepath.Base(name))
				if st.Size() > 1000 || st.Size() == 0 {
					t.Errorf("%s has %d bytes", name, st.Size())
				}
			}
			if len(names) != files {
				t.Fatalf("files %v, want %d of them", names, files)
			}
			// Oldest first, the lines continue each other up to the last one.
			var all []entry
			for i := files - 1; i >= 0; i-- {
				name := path
				if i > 0 {
					name += "." + strconv.Itoa(i)
				}
				all = append(all, readEntries(t, name)...)
			}
			first, _ := strconv.Atoi(strings.Fields(all[0].Log)[1])
			for i, e := range all {
				if want := "line " + strconv.Itoa(first+i) + "\n"; e.Log != want {
					t.Fatalf("entry %d %q, want %q", i, e.Log, want)
				}
			}
			if all[len(all)-1].Log != "line 199\n" {
				t.Fatalf("last entry %q", all[len(all)-1].Log)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	c, err := parseArgs([]string{"--id", "abc", "--bundle=/b", "--runtime", "/usr/sbin/runc", "--runtime-root", "/r",
		"--log-path", "/l", "--log-max-size", "1024", "--log-max-files=3", "--state-dir", "/s", "--tty", "--stdin", "--stdin-once=false"})
	if err != nil {
		t.Fatal(err)
	}
	if c.id != "abc" || c.bundle != "/b" || c.runtimeRoot != "/r" || c.logMaxSize != 1024 || c.logMaxFiles != 3 ||
		c.stateDir != "/s" || !c.tty || !c.stdin || c.stdinOnce || c.holdOutput {
		t.Fatalf("parsed %+v", c)
	}
	for _, bad := range [][]string{
		{"--id", "x"},
		{"--id", "x", "--bundle", "/b", "--runtime", "r", "--log-path", "l", "--state-dir", "s", "--bogus", "1"},
		{"--id", "x", "--bundle", "/b", "--runtime", "r", "--log-path", "l", "--state-dir", "s", "--log-max-size", "big"},
		{"--id"},
		{"stray"},
	} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("parseArgs(%q) succeeded", bad)
		}
	}
}

func TestExitCode(t *testing.T) {
	// WaitStatus layout: exit code in bits 8-15, signal in the low 7 bits.
	if got := exitCode(syscall.WaitStatus(3 << 8)); got != 3 {
		t.Errorf("exit 3 -> %d", got)
	}
	if got := exitCode(syscall.WaitStatus(syscall.SIGKILL)); got != 137 {
		t.Errorf("SIGKILL -> %d", got)
	}
	if got := exitCode(syscall.WaitStatus(syscall.SIGTERM)); got != 143 {
		t.Errorf("SIGTERM -> %d", got)
	}
}

func TestRuntimeMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runtime.log")
	old := `{"level":"error","msg":"an old failure","time":"2026-01-01T00:00:00Z"}` + "\n"
	cur := `{"level":"warning","msg":"something","time":"2026-01-01T00:00:01Z"}` + "\n" +
		`{"level":"error","msg":"runc create failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH","time":"2026-01-01T00:00:02Z"}` + "\n"
	os.WriteFile(path, []byte(old+cur), 0o644)
	got := runtimeMessage(path, int64(len(old)))
	if want := `runc create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH`; got != want {
		t.Fatalf("got %q", got)
	}
	if got := runtimeMessage(path, int64(len(old+cur))); got != "" {
		t.Fatalf("nothing new, got %q", got)
	}
}
