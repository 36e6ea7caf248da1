package server

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
)

// Hijack takes over the connection for attach and exec streams. Clients that asked for an upgrade get
// docker's 101 reply; old ones get 200 and then the raw stream. The returned reader holds any bytes
// the client sent ahead (stdin typed before the reply arrived).
func Hijack(w http.ResponseWriter, r *http.Request, contentType string) (net.Conn, *bufio.Reader, error) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack connection: %w", err)
	}
	if r.Header.Get("Upgrade") != "" {
		fmt.Fprintf(conn, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", contentType)
	} else {
		fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", contentType)
	}
	return conn, buf.Reader, nil
}

// Stream content types of attach, exec and logs.
const (
	RawStream         = "application/vnd.docker.raw-stream"
	MultiplexedStream = "application/vnd.docker.multiplexed-stream"
)
