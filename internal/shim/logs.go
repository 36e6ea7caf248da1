package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/berth-project/berth/internal/shim/wire"
)

// LogOptions select what ReadLogs returns.
type LogOptions struct {
	Follow bool // keep reading as the log grows (through rotation)
	Tail   int  // only the last Tail matching entries; < 0 for all
	Since  time.Time
	Until  time.Time
	Stdout bool
	Stderr bool // neither Stdout nor Stderr: both
	// StateDir is the shim's state directory: with Follow, reading stops once
	// the shim has recorded the exit there and the log is drained. Without it
	// a follow lasts until ctx ends (or Until passes).
	StateDir string
}

// LogEntry is one json-file message. Line is the raw output, its newline
// included; a message without one is a piece of a longer line (docker splits
// at 16 KiB) or the unterminated end of the output.
type LogEntry struct {
	Time   time.Time
	Stream string // "stdout" or "stderr"
	Line   []byte
	Err    error // set on the last entry when reading failed
}

// ReadLogs reads a docker json-file log written by berth-shim: the rotated
// files (path.N ... path.1) first, then path. The channel is closed at the
// end, when ctx ends, or after an entry carrying Err.
func ReadLogs(ctx context.Context, path string, opts LogOptions) (<-chan LogEntry, error) {
	if !opts.Stdout && !opts.Stderr {
		opts.Stdout, opts.Stderr = true, true
	}
	if opts.StateDir != "" {
		opts.StateDir = absDir(opts.StateDir)
	}
	// The current file first, then the rotated ones: a rotation in between
	// then shows up as a duplicate (skipped) rather than a gap.
	cur, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	curSt, err := cur.Stat()
	if err != nil {
		cur.Close()
		return nil, err
	}
	// Oldest first; look past one missing name, which a rotation in
	// progress leaves while it renames.
	var rotated []*os.File
	for i, missing := 1, 0; missing < 2; i++ {
		f, err := os.Open(path + "." + strconv.Itoa(i))
		if err != nil {
			missing++
			continue
		}
		missing = 0
		if st, err := f.Stat(); err != nil || os.SameFile(st, curSt) {
			f.Close()
			continue
		}
		rotated = append([]*os.File{f}, rotated...)
	}
	r := &logReader{ctx: ctx, path: path, opts: opts, ch: make(chan LogEntry, 64), cur: cur, curSt: curSt, rotated: rotated}
	go r.run()
	return r.ch, nil
}

type logReader struct {
	ctx     context.Context
	path    string
	opts    LogOptions
	ch      chan LogEntry
	cur     *os.File
	curSt   os.FileInfo
	off     int64 // next unread byte of cur
	rotated []*os.File
	buf     []byte
}

// errStop ends reading early: ctx ended or an entry passed Until.
var errStop = errors.New("stop")

func (r *logReader) run() {
	defer close(r.ch)
	defer func() {
		r.cur.Close()
		for _, f := range r.rotated {
			f.Close()
		}
	}()
	err := r.readExisting()
	if err == nil && r.opts.Follow {
		err = r.follow()
	}
	if err != nil && err != errStop {
		r.send(LogEntry{Err: err})
	}
}

func (r *logReader) readExisting() error {
	if r.opts.Tail < 0 {
		for _, f := range r.rotated {
			if _, err := r.readForward(f, 0); err != nil {
				return err
			}
		}
		var err error
		r.off, err = r.readForward(r.cur, 0)
		return err
	}
	// Tail: scan backwards from the end of the newest file.
	files := append(append([]*os.File(nil), r.rotated...), r.cur)
	var picked []LogEntry // newest first
	for i := len(files) - 1; i >= 0 && len(picked) < r.opts.Tail; i-- {
		end, err := completeEnd(files[i])
		if err != nil {
			return err
		}
		if files[i] == r.cur {
			r.off = end
		}
		err = scanBackward(files[i], end, func(line []byte) bool {
			if e, ok := parseEntry(line); ok && r.match(e) {
				picked = append(picked, e)
			}
			return len(picked) >= r.opts.Tail
		})
		if err != nil {
			return err
		}
	}
	if r.opts.Tail == 0 || len(picked) == 0 {
		end, err := completeEnd(r.cur)
		if err != nil {
			return err
		}
		r.off = end
	}
	for i := len(picked) - 1; i >= 0; i-- {
		if !r.send(picked[i]) {
			return errStop
		}
	}
	return nil
}

// follow tails the current file, moving on through rotations, until the
// shim has recorded the exit (and the log is drained), Until passes, or ctx
// ends.
func (r *logReader) follow() error {
	w := newWatcher(filepath.Dir(r.path), r.opts.StateDir)
	defer w.close()
	exited := false
	for {
		var err error
		if r.off, err = r.readForward(r.cur, r.off); err != nil {
			return err
		}
		if st, err := os.Stat(r.path); err == nil && !os.SameFile(st, r.curSt) {
			moved, err := r.advance()
			if err != nil {
				return err
			}
			if moved {
				continue
			}
		} else if st, err := r.cur.Stat(); err == nil && st.Size() < r.off {
			r.off = 0 // truncated in place (max-files 1)
			continue
		}
		if exited {
			return nil
		}
		if r.opts.StateDir != "" {
			if _, err := os.Stat(filepath.Join(r.opts.StateDir, wire.ExitFile)); err == nil {
				exited = true // one more pass: the shim closes the log before writing exit.json
				continue
			}
		}
		if !r.opts.Until.IsZero() && time.Now().After(r.opts.Until) {
			return nil
		}
		if err := w.wait(r.ctx, time.Second); err != nil {
			return errStop
		}
	}
}

func (r *logReader) rotatedName(i int) string {
	if i == 0 {
		return r.path
	}
	return r.path + "." + strconv.Itoa(i)
}

// advance is called when the file being read is no longer the live one: it
// reads what is left of it and switches to the file written right after it
// (path.(k-1) when it is now path.k). One file at a time, so any number of
// rotations between two looks is followed without a gap. It reports false
// when the successor cannot be told yet (mid-rotation); the caller retries.
func (r *logReader) advance() (bool, error) {
	var err error
	if r.off, err = r.readForward(r.cur, r.off); err != nil {
		return false, err
	}
	const attempts = 50
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			time.Sleep(2 * time.Millisecond) // let a rotation in progress finish
		}
		// Where has the current file gone? A rotation renames path.i to
		// path.(i+1) from the top down, so one name may be missing
		// mid-rotation: look past a single gap.
		at, oldest := 0, 0
		for i, missing := 1, 0; missing < 2; i++ {
			st, err := os.Stat(r.rotatedName(i))
			if err != nil {
				missing++
				continue
			}
			missing, oldest = 0, i
			if os.SameFile(st, r.curSt) {
				at = i
				break
			}
		}
		next := at - 1
		if at == 0 {
			if attempt < attempts-1 {
				continue // maybe caught in the middle of the renames
			}
			next = oldest // rotated out of existence: resume at the oldest file kept
		}
		f, err := os.Open(r.rotatedName(next))
		if err != nil {
			continue // e.g. between the rename and the create
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return false, err
		}
		// The renames go from the oldest down, so if the current file is
		// still where it was after the open, the file opened is its successor.
		if at > 0 {
			if cst, err := os.Stat(r.rotatedName(at)); err != nil || !os.SameFile(cst, r.curSt) {
				f.Close()
				continue
			}
		}
		if os.SameFile(st, r.curSt) {
			f.Close()
			continue
		}
		r.cur.Close()
		r.cur, r.curSt, r.off = f, st, 0
		return true, nil
	}
	return false, nil
}

func (r *logReader) match(e LogEntry) bool {
	switch e.Stream {
	case "stdout":
		if !r.opts.Stdout {
			return false
		}
	case "stderr":
		if !r.opts.Stderr {
			return false
		}
	}
	if !r.opts.Since.IsZero() && e.Time.Before(r.opts.Since) {
		return false
	}
	if !r.opts.Until.IsZero() && e.Time.After(r.opts.Until) {
		return false
	}
	return true
}

func (r *logReader) send(e LogEntry) bool {
	select {
	case r.ch <- e:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// readForward emits the complete lines of f from off on and returns the
// offset after the last one; an unterminated last line is left for later.
func (r *logReader) readForward(f *os.File, off int64) (int64, error) {
	if r.buf == nil {
		r.buf = make([]byte, 64*1024)
	}
	for {
		n, err := f.ReadAt(r.buf, off)
		if err != nil && err != io.EOF {
			return off, err
		}
		data := r.buf[:n]
		consumed := 0
		for {
			i := bytes.IndexByte(data[consumed:], '\n')
			if i < 0 {
				break
			}
			line := data[consumed : consumed+i]
			consumed += i + 1
			if e, ok := parseEntry(line); ok {
				if !r.opts.Until.IsZero() && e.Time.After(r.opts.Until) {
					return off + int64(consumed), errStop
				}
				if r.match(e) && !r.send(e) {
					return off + int64(consumed), errStop
				}
			}
		}
		off += int64(consumed)
		if n < len(r.buf) {
			return off, nil // at the end of what has been written
		}
		if consumed == 0 { // a line longer than the buffer
			r.buf = make([]byte, 2*len(r.buf))
		}
	}
}

// completeEnd is the size of f cut back to just after its last newline.
func completeEnd(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	end := st.Size()
	var b [4096]byte
	for pos := end; pos > 0; {
		n := int64(len(b))
		if pos < n {
			n = pos
		}
		pos -= n
		if _, err := f.ReadAt(b[:n], pos); err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(b[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
	}
	return 0, nil
}

// scanBackward calls fn with each line of f[0:end) (end at a line boundary),
// last line first, until fn returns true.
func scanBackward(f *os.File, end int64, fn func(line []byte) bool) error {
	const chunk = 64 * 1024
	var tail []byte // bytes [pos, end) not yet handed out; ends with '\n'
	pos := end
	for {
		for len(tail) > 0 {
			i := bytes.LastIndexByte(tail[:len(tail)-1], '\n')
			if i < 0 {
				break
			}
			if fn(tail[i+1 : len(tail)-1]) {
				return nil
			}
			tail = tail[:i+1]
		}
		if pos == 0 {
			if len(tail) > 0 {
				fn(tail[:len(tail)-1])
			}
			return nil
		}
		n := int64(chunk)
		if pos < n {
			n = pos
		}
		pos -= n
		buf := make([]byte, int(n)+len(tail))
		if _, err := f.ReadAt(buf[:n], pos); err != nil && err != io.EOF {
			return err
		}
		copy(buf[n:], tail)
		tail = buf
	}
}

type jsonLine struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

func parseEntry(line []byte) (LogEntry, bool) {
	if len(bytes.TrimSpace(line)) == 0 {
		return LogEntry{}, false
	}
	var j jsonLine
	if err := json.Unmarshal(line, &j); err != nil {
		return LogEntry{}, false
	}
	return LogEntry{Time: j.Time, Stream: j.Stream, Line: []byte(j.Log)}, true
}
