package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Media types of hijacked streams (API 1.42 and later say which one they send).
const (
	MediaTypeRawStream         = "application/vnd.docker.raw-stream"
	MediaTypeMultiplexedStream = "application/vnd.docker.multiplexed-stream"
)

// HijackedResponse is a connection the daemon took over from HTTP after attach or exec start:
// the container's input is written to Conn, its output read from Reader (stdcopy frames unless
// the container or exec has a TTY).
type HijackedResponse struct {
	Conn      net.Conn
	Reader    *bufio.Reader
	MediaType string // Content-Type of the upgrade reply, "" when the daemon sent none
}

// Close closes the connection.
func (h HijackedResponse) Close() error {
	if h.Conn == nil {
		return nil
	}
	return h.Conn.Close()
}

// CloseWrite tells the daemon the input has ended, keeping the output flowing.
func (h HijackedResponse) CloseWrite() error {
	if cw, ok := h.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Multiplexed reports whether the daemon says the output is stdcopy frames; ok is false when it
// did not say.
func (h HijackedResponse) Multiplexed() (multiplexed, ok bool) {
	mt, _, _ := mime.ParseMediaType(h.MediaType)
	switch mt {
	case MediaTypeMultiplexedStream:
		return true, true
	case MediaTypeRawStream:
		return false, true
	}
	return false, false
}

// hijack sends a POST asking to upgrade the connection to a raw TCP stream. The daemon answers
// 101 Switching Protocols (old daemons: 200 OK) and from then on the connection carries the
// stream. Any other status is returned as the mapped error.
func (c *Client) hijack(ctx context.Context, path string, query url.Values, body any) (HijackedResponse, error) {
	req := request{method: http.MethodPost, path: path, query: query}
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return HijackedResponse{}, err
		}
		req.body = bytes.NewReader(raw)
		req.contentType = "application/json"
	}
	hreq, err := c.newHTTPRequest(ctx, req)
	if err != nil {
		return HijackedResponse{}, err
	}
	hreq.Header.Set("Connection", "Upgrade")
	hreq.Header.Set("Upgrade", "tcp")

	conn, err := c.dial(ctx)
	if err != nil {
		return HijackedResponse{}, err
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetKeepAlive(true)
		_ = tcp.SetKeepAlivePeriod(30 * time.Second)
	}

	// Until the handshake is done, giving up on ctx closes the connection.
	handshake := make(chan struct{})
	defer close(handshake)
	go func() {
		select {
		case <-ctx.Done():
			_ = conn.Close()
		case <-handshake:
		}
	}()

	if err := hreq.Write(conn); err != nil {
		conn.Close()
		return HijackedResponse{}, c.hijackError(ctx, err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, hreq)
	if err != nil {
		conn.Close()
		return HijackedResponse{}, c.hijackError(ctx, err)
	}
	switch resp.StatusCode {
	case http.StatusSwitchingProtocols, http.StatusOK:
		return HijackedResponse{Conn: conn, Reader: br, MediaType: resp.Header.Get("Content-Type")}, nil
	}
	defer conn.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		resp.Body.Close()
		return HijackedResponse{}, fmt.Errorf("daemon did not take over the connection: %s", resp.Status)
	}
	err = responseError(resp, http.MethodPost)
	resp.Body.Close()
	return HijackedResponse{}, err
}

func (c *Client) hijackError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var ce *ConnectionError
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("error during connect: %w", err)
}

// AttachOptions are the options of ContainerAttach.
type AttachOptions struct {
	Stream     bool   // stream output (and input) as long as the container runs
	Stdin      bool   // attach the container's stdin
	Stdout     bool   // attach its stdout
	Stderr     bool   // attach its stderr
	DetachKeys string // key sequence that detaches, e.g. "ctrl-p,ctrl-q"
	Logs       bool   // first replay the logs
}

// ContainerAttach attaches to a container's standard streams over a hijacked connection; the
// caller closes the returned response.
func (c *Client) ContainerAttach(ctx context.Context, id string, opts AttachOptions) (HijackedResponse, error) {
	if err := checkID(id); err != nil {
		return HijackedResponse{}, err
	}
	q := url.Values{}
	set := func(k string, v bool) {
		if v {
			q.Set(k, "1")
		}
	}
	set("stream", opts.Stream)
	set("stdin", opts.Stdin)
	set("stdout", opts.Stdout)
	set("stderr", opts.Stderr)
	set("logs", opts.Logs)
	if opts.DetachKeys != "" {
		q.Set("detachKeys", opts.DetachKeys)
	}
	return c.hijack(ctx, containerPath(id, "/attach"), q, nil)
}
