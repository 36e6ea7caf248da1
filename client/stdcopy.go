package client

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The streams of a multiplexed (stdcopy) stream: each frame is an 8-byte header, the stream byte,
// three zero bytes and the big-endian uint32 payload length, followed by the payload.
const (
	StreamStdin     byte = 0 // written to stdout, as docker does
	StreamStdout    byte = 1
	StreamStderr    byte = 2
	StreamSystemErr byte = 3 // an error of the daemon; ends the stream

	frameHeaderLen = 8
)

// StreamError is a failure the daemon reported in the system-error stream.
type StreamError struct{ Message string }

func (e *StreamError) Error() string { return "error from daemon in stream: " + e.Message }

// maxSystemErr bounds how much of a system-error frame is kept.
const maxSystemErr = 64 << 10

// DemuxStream copies the frames of the multiplexed stream src to stdout and stderr (a nil writer
// discards) until src ends. It returns how many payload bytes were written. A stream that ends
// at a frame boundary is success; one cut inside a frame ends with io.ErrUnexpectedEOF; a
// system-error frame ends with a *StreamError.
func DemuxStream(stdout, stderr io.Writer, src io.Reader) (int64, error) {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var (
		header  [frameHeaderLen]byte
		written int64
	)
	for {
		if _, err := io.ReadFull(src, header[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return written, nil
			}
			return written, err
		}
		size := int64(binary.BigEndian.Uint32(header[4:]))
		var dst io.Writer
		switch header[0] {
		case StreamStdin, StreamStdout:
			dst = stdout
		case StreamStderr:
			dst = stderr
		case StreamSystemErr:
			msg, err := io.ReadAll(io.LimitReader(src, min(size, maxSystemErr)))
			if err == nil && int64(len(msg)) < min(size, maxSystemErr) {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				return written, err
			}
			return written, &StreamError{Message: string(msg)}
		default:
			return written, fmt.Errorf("unrecognized stream in multiplexed output: %d", header[0])
		}
		n, err := io.CopyN(dst, src, size)
		written += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				return written, io.ErrUnexpectedEOF
			}
			return written, err
		}
	}
}

// MuxFrame returns one frame of a multiplexed stream carrying payload on stream.
func MuxFrame(stream byte, payload []byte) []byte {
	frame := make([]byte, frameHeaderLen+len(payload))
	frame[0] = stream
	binary.BigEndian.PutUint32(frame[4:], uint32(len(payload)))
	copy(frame[frameHeaderLen:], payload)
	return frame
}
