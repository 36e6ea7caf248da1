package image

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

func TestBlockPipeCarriesBytesInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 5*pipeBlockSize+12345)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	p := newBlockPipe()
	go func() {
		rest := data
		for len(rest) > 0 {
			n := min(len(rest), 1+rng.IntN(3*pipeBlockSize/2)) // small writes and ones over a block
			if _, err := p.Write(rest[:n]); err != nil {
				p.CloseWrite(err)
				return
			}
			rest = rest[n:]
		}
		p.CloseWrite(nil)
	}()
	var got bytes.Buffer
	buf := make([]byte, 100_000)
	for {
		n, err := p.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("read %d bytes, not the %d written", got.Len(), len(data))
	}
}

func TestBlockPipeWriterError(t *testing.T) {
	p := newBlockPipe()
	boom := errors.New("connection reset")
	if _, err := p.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	p.CloseWrite(boom)
	got, err := io.ReadAll(p)
	if string(got) != "partial" || !errors.Is(err, boom) {
		t.Fatalf("read %q, %v; want the bytes written, then the writer's error", got, err)
	}
}

// The writer may run a full buffer ahead of the reader, and a reader that gives up releases a
// writer that waits for room.
func TestBlockPipeBuffersAndReaderClose(t *testing.T) {
	p := newBlockPipe()
	wrote := make(chan error, 1)
	go func() {
		_, err := p.Write(make([]byte, pipeBlocks*pipeBlockSize))
		wrote <- err
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write that fits the buffer blocked without a reader")
	}
	go func() {
		_, err := p.Write([]byte("more than fits")) // no block is free
		wrote <- err
	}()
	bad := errors.New("corrupt tar")
	p.CloseRead(bad)
	select {
	case err := <-wrote:
		if !errors.Is(err, bad) {
			t.Fatalf("write after the reader closed: %v, want %v", err, bad)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked writer was not released when the reader closed")
	}
}
