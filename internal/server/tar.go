package server

import (
	"io"
	"net/http"
)

// WriteTar sends what write produces as an application/x-tar reply. An error before the first byte
// is returned, for the usual error reply; after it the connection is cut short, so the client sees a
// truncated archive, which tar readers reject.
func WriteTar(w http.ResponseWriter, write func(io.Writer) error) error {
	w.Header().Set("Content-Type", "application/x-tar")
	sw := &startedWriter{w: w}
	if err := write(sw); err != nil {
		if !sw.started {
			return err
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

// startedWriter notes whether any byte reached the client, after which no error reply is possible.
type startedWriter struct {
	w       io.Writer
	started bool
}

func (s *startedWriter) Write(b []byte) (int, error) {
	s.started = true
	return s.w.Write(b)
}
