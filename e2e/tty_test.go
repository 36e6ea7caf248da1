package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestInteractiveTTY is `docker run -t -i` through a real pty: type a command, see its output,
// detach with ctrl-p ctrl-q, attach again and exit the shell.
func TestInteractiveTTY(t *testing.T) {
	c := withBusybox(t, dockerCLI(t))
	run := exec.Command(c.bin, "run", "-t", "-i", "--name", "c1", "busybox", "sh")
	run.Env = c.d.Env()
	term, err := pty.StartWithSize(run, &pty.Winsize{Rows: 40, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	readUntil(t, term, "# ", 10*time.Second)
	term.Write([]byte("echo hi-$((40+2))\r"))
	readUntil(t, term, "hi-42", 10*time.Second)
	term.Write([]byte("stty size\r"))
	readUntil(t, term, "40 100", 10*time.Second)
	term.Write([]byte{16, 17}) // ctrl-p ctrl-q
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("docker run after detach: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("detach keys did not end docker run")
	}
	if out := c.ok("inspect", "-f", "{{.State.Running}}", "c1"); strings.TrimSpace(out) != "true" {
		t.Fatalf("container stopped on detach: %q", out)
	}

	attach := exec.Command(c.bin, "attach", "c1")
	attach.Env = c.d.Env()
	term2, err := pty.Start(attach)
	if err != nil {
		t.Fatal(err)
	}
	defer term2.Close()
	time.Sleep(300 * time.Millisecond)
	term2.Write([]byte("echo again-$((1+1))\r"))
	readUntil(t, term2, "again-2", 10*time.Second)
	term2.Write([]byte("exit 5\r"))
	go func() { done <- attach.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 5 {
			t.Fatalf("attach exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("attach did not end when the shell exited")
	}
}
