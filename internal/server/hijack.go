package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
)

// HijackedStream is a taken-over connection: reads first drain what the HTTP server had buffered
// (stdin typed before the reply arrived), writes go straight to the client.
type HijackedStream struct {
	net.Conn
	in *bufio.Reader
}

func (h *HijackedStream) Read(p []byte) (int, error) { return h.in.Read(p) }

// Hijack takes over the connection for attach and exec streams, announcing the raw stream type for
// a TTY and the multiplexed one otherwise. Clients that asked for an upgrade get docker's 101 reply;
// old ones get 200 and then the stream.
func Hijack(w http.ResponseWriter, r *http.Request, tty bool) (*HijackedStream, error) {
	contentType := MultiplexedStream
	if tty {
		contentType = RawStream
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijack connection: %w", err)
	}
	if r.Header.Get("Upgrade") != "" {
		fmt.Fprintf(conn, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", contentType)
	} else {
		fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", contentType)
	}
	return &HijackedStream{Conn: conn, in: buf.Reader}, nil
}

// Stream content types of attach, exec and logs.
const (
	RawStream         = "application/vnd.docker.raw-stream"
	MultiplexedStream = "application/vnd.docker.multiplexed-stream"
)

type streamKey struct{}

// StreamContext is the context for the work a hijacked stream drives (an attached exec, an
// attach): it ends when berthd shuts down, not with the request. A client that half-closes
// early (docker-compose v1 does once its stdin is empty) can deliver that EOF to the HTTP server
// before the hijack, which then cancels the request's context, though the client still reads.
func StreamContext(r *http.Request) context.Context {
	if ctx, ok := r.Context().Value(streamKey{}).(context.Context); ok {
		return ctx
	}
	return context.WithoutCancel(r.Context())
}
