package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// apiClient speaks just enough of the Engine API over a unix socket.
type apiClient struct {
	http    *http.Client
	version string // from the API-Version header of /_ping; "" until pinged
}

func newAPIClient(sock string) *apiClient {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		DisableCompression: true,
		MaxIdleConns:       2,
	}
	return &apiClient{http: &http.Client{Transport: tr}}
}

func (c *apiClient) url(p string) string {
	if c.version != "" {
		return "http://engine/v" + c.version + p
	}
	return "http://engine" + p
}

func (c *apiClient) ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://engine/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/_ping: %s", resp.Status)
	}
	c.version = resp.Header.Get("API-Version")
	return nil
}

// load posts an image archive to /images/load and reads the whole progress
// stream, failing on an error message in it.
func (c *apiClient) load(ctx context.Context, archive []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/images/load?quiet=1"), bytes.NewReader(archive))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-tar")
	req.ContentLength = int64(len(archive))
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError("POST /images/load", resp)
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("POST /images/load: reading progress: %w", err)
		}
		if msg.Error != "" {
			return fmt.Errorf("POST /images/load: %s", msg.Error)
		}
		if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			return fmt.Errorf("POST /images/load: %s", msg.ErrorDetail.Message)
		}
	}
}

// save reads GET /images/get for name to the end and returns its size.
func (c *apiClient) save(ctx context.Context, name string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/images/get?names="+url.QueryEscape(name)), nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, statusError("GET /images/get", resp)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, fmt.Errorf("GET /images/get: %w", err)
	}
	return n, nil
}

// remove deletes an image (force, so tags and layers go); a missing image is not an error.
func (c *apiClient) remove(ctx context.Context, name string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.url("/images/"+url.PathEscape(name)+"?force=1"), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		return statusError("DELETE /images/"+name, resp)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

func statusError(what string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var m struct {
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &m) == nil && m.Message != "" {
		msg = m.Message
	}
	if msg == "" {
		return errors.New(what + ": " + resp.Status)
	}
	return fmt.Errorf("%s: %s: %s", what, resp.Status, msg)
}
