package client

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
)

func frames(parts ...any) []byte {
	var b bytes.Buffer
	for i := 0; i < len(parts); i += 2 {
		b.Write(MuxFrame(parts[i].(byte), []byte(parts[i+1].(string))))
	}
	return b.Bytes()
}

// oneByteReader hands out its data a byte at a time, so frames arrive split at every offset.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestDemuxStream(t *testing.T) {
	big := strings.Repeat("x", 100000)
	stream := frames(StreamStdout, "hello ", StreamStderr, "oops\n", StreamStdin, "in", StreamStdout, "", StreamStdout, big)
	for name, src := range map[string]func() io.Reader{
		"whole":   func() io.Reader { return bytes.NewReader(stream) },
		"trickle": func() io.Reader { return oneByteReader{bytes.NewReader(stream)} },
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			n, err := DemuxStream(&out, &errOut, src())
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != "hello in"+big || errOut.String() != "oops\n" {
				t.Fatalf("stdout %d bytes %q..., stderr %q", out.Len(), out.String()[:min(20, out.Len())], errOut.String())
			}
			if n != int64(len("hello oops\nin")+len(big)) {
				t.Fatalf("written %d", n)
			}
		})
	}

	// The result matches moby's own demultiplexer.
	var out1, err1, out2, err2 bytes.Buffer
	if _, err := DemuxStream(&out1, &err1, bytes.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	if _, err := stdcopy.StdCopy(&out2, &err2, bytes.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	if out1.String() != out2.String() || err1.String() != err2.String() {
		t.Fatal("differs from stdcopy.StdCopy")
	}
}

func TestDemuxStreamEnds(t *testing.T) {
	var out bytes.Buffer
	if n, err := DemuxStream(&out, nil, bytes.NewReader(nil)); err != nil || n != 0 {
		t.Fatalf("empty stream: %d %v", n, err)
	}

	// A nil writer discards its stream.
	out.Reset()
	if _, err := DemuxStream(&out, nil, bytes.NewReader(frames(StreamStderr, "gone", StreamStdout, "kept"))); err != nil || out.String() != "kept" {
		t.Fatalf("nil stderr: %q %v", out.String(), err)
	}

	full := frames(StreamStdout, "abcdef")
	for _, cut := range []int{3, 8, 10} {
		out.Reset()
		_, err := DemuxStream(&out, nil, bytes.NewReader(full[:cut]))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: err %v", cut, err)
		}
	}

	out.Reset()
	_, err := DemuxStream(&out, nil, bytes.NewReader(frames(StreamStdout, "before", StreamSystemErr, "runtime exploded", StreamStdout, "after")))
	var se *StreamError
	if !errors.As(err, &se) || se.Message != "runtime exploded" || out.String() != "before" {
		t.Fatalf("system error: %v %q", err, out.String())
	}

	bad := frames(StreamStdout, "x")
	bad = append(bad, 9, 0, 0, 0, 0, 0, 0, 1, 'y')
	out.Reset()
	if _, err := DemuxStream(&out, nil, bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "unrecognized stream") || out.String() != "x" {
		t.Fatalf("unknown stream: %v %q", err, out.String())
	}

	// A failing writer stops the copy with its error.
	if _, err := DemuxStream(failWriter{}, nil, bytes.NewReader(full)); err == nil || err.Error() != "disk full" {
		t.Fatalf("writer error: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
