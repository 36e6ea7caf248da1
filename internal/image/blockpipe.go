package image

import (
	"io"
	"sync"
)

// pipeBlockSize and pipeBlocks size a blockPipe: up to 4 MiB in flight per layer being pulled.
const (
	pipeBlockSize = 1 << 20
	pipeBlocks    = 4
)

// blockPipe is an in-memory pipe with a few blocks of buffer. Unlike io.Pipe, whose Write waits
// until the reader has taken every byte, the writer (network, hash, blob file) runs ahead of the
// reader (decompress, unpack) by up to the buffer, so on a pull both sides keep a CPU busy
// instead of taking turns.
type blockPipe struct {
	full chan []byte // written blocks, in order; closed by CloseWrite
	free chan []byte // blocks the writer may fill
	done chan struct{}

	// Each error is set before its side closes its channel (full, done), and read only by the
	// other side after it saw the close, which orders the two.
	werr error // why the writer stopped (io.EOF when it finished)
	rerr error // why the reader stopped

	wblk []byte // the block being filled, owned by the writer

	cur  []byte // the reader's block
	rest []byte // its unread part
	once sync.Once
}

func newBlockPipe() *blockPipe {
	p := &blockPipe{
		full: make(chan []byte, pipeBlocks),
		free: make(chan []byte, pipeBlocks),
		done: make(chan struct{}),
	}
	for range pipeBlocks {
		p.free <- nil // allocated on first use, so a small layer costs one block
	}
	return p
}

// Write copies b into blocks for the reader; a block is handed over once full or at CloseWrite.
// It fails with the reader's error once the reader has closed.
func (p *blockPipe) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if p.wblk == nil {
			select {
			case p.wblk = <-p.free:
			case <-p.done:
				return n, p.rerr
			}
			if p.wblk == nil {
				p.wblk = make([]byte, 0, pipeBlockSize)
			}
		}
		c := copy(p.wblk[len(p.wblk):cap(p.wblk)], b)
		p.wblk = p.wblk[:len(p.wblk)+c]
		n += c
		b = b[c:]
		if len(p.wblk) == cap(p.wblk) {
			if err := p.send(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (p *blockPipe) send() error {
	select {
	case p.full <- p.wblk:
		p.wblk = nil
		return nil
	case <-p.done:
		return p.rerr
	}
}

// CloseWrite ends the stream: the reader gets err (io.EOF when err is nil) after the bytes
// already written.
func (p *blockPipe) CloseWrite(err error) {
	if len(p.wblk) > 0 {
		if serr := p.send(); err == nil {
			err = serr
		}
	}
	if err == nil {
		err = io.EOF
	}
	p.werr = err
	close(p.full)
}

// Read returns buffered bytes in the order they were written.
func (p *blockPipe) Read(b []byte) (int, error) {
	if len(p.rest) == 0 {
		if p.cur != nil {
			p.free <- p.cur[:0]
			p.cur = nil
		}
		blk, ok := <-p.full
		if !ok {
			return 0, p.werr
		}
		p.cur, p.rest = blk, blk
	}
	n := copy(b, p.rest)
	p.rest = p.rest[n:]
	return n, nil
}

// CloseRead stops the reader; a pending or later Write fails with err (io.ErrClosedPipe when nil).
func (p *blockPipe) CloseRead(err error) {
	if err == nil {
		err = io.ErrClosedPipe
	}
	p.once.Do(func() {
		p.rerr = err
		close(p.done)
	})
}
