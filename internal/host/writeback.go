package host

import (
	"os"

	"golang.org/x/sys/unix"
)

// writebackChunk is how much written data a Writeback lets pile up before it asks the kernel to
// start writing it out.
const writebackChunk = 8 << 20

// Writeback writes to a file and starts the disk writes of each 8 MiB once written, so that a
// final fsync or syncfs after a large file waits for its last chunk instead of all of it. It is
// only a hint: durability still comes from the sync.
type Writeback struct {
	F         *os.File
	off, done int64
}

func (w *Writeback) Write(p []byte) (int, error) {
	n, err := w.F.Write(p)
	w.off += int64(n)
	if w.off-w.done >= writebackChunk {
		_ = unix.SyncFileRange(int(w.F.Fd()), w.done, w.off-w.done, unix.SYNC_FILE_RANGE_WRITE)
		w.done = w.off
	}
	return n, err
}
