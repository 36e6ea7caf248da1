package container

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
)

func TestFrameWritersRoundTripThroughStdCopy(t *testing.T) {
	var buf bytes.Buffer
	out, errw := newFrameWriters(&buf)
	io.WriteString(out, "hello ")
	io.WriteString(errw, "oops\n")
	io.WriteString(out, "world\n")
	var o, e bytes.Buffer
	if _, err := stdcopy.StdCopy(&o, &e, &buf); err != nil {
		t.Fatal(err)
	}
	if o.String() != "hello world\n" || e.String() != "oops\n" {
		t.Fatalf("stdout %q stderr %q", o.String(), e.String())
	}
}

func TestDetachKeys(t *testing.T) {
	keys, err := detachKeys("")
	if err != nil || !bytes.Equal(keys, []byte{16, 17}) {
		t.Fatalf("default keys: %v %v", keys, err)
	}
	if keys, _ := detachKeys("a,ctrl-z"); !bytes.Equal(keys, []byte{'a', 26}) {
		t.Fatalf("a,ctrl-z: %v", keys)
	}
	if _, err := detachKeys("ctrl-1"); err == nil {
		t.Fatal("bad keys accepted")
	}
	// A lone ctrl-p is passed on; ctrl-p ctrl-q detaches and nothing after it is read.
	d := &detachReader{r: strings.NewReader("ab\x10c\x10\x11never"), keys: []byte{16, 17}}
	got, _ := io.ReadAll(d)
	if string(got) != "ab\x10c" || !d.detached {
		t.Fatalf("got %q detached=%v", got, d.detached)
	}
}
