package client

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/berth-project/berth/api"
)

// Ping is what GET /_ping tells about the daemon.
type Ping struct {
	APIVersion     string // API-Version header: the highest API version the daemon speaks
	OSType         string // OSType header
	Experimental   bool   // Docker-Experimental header
	BuilderVersion string // Builder-Version header
}

// Ping checks that the daemon answers and reads its capability headers.
func (c *Client) Ping(ctx context.Context) (Ping, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/_ping", unversioned: true})
	if err != nil {
		return Ping{}, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return pingFromHeader(resp.Header), nil
}

func pingFromHeader(h http.Header) Ping {
	p := Ping{
		APIVersion:     h.Get("API-Version"),
		OSType:         h.Get("OSType"),
		BuilderVersion: h.Get("Builder-Version"),
	}
	p.Experimental, _ = strconv.ParseBool(h.Get("Docker-Experimental"))
	return p
}

// negotiate settles the API version on first use: min(daemon's API-Version, api.DefaultVersion),
// or api.MinVersion when the daemon does not say.
func (c *Client) negotiate(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.negotiated {
		return c.version, nil
	}
	p, err := c.Ping(ctx)
	if err != nil {
		if _, ok := err.(*ConnectionError); ok {
			return "", err
		}
		if ctx.Err() != nil {
			return "", err
		}
		// The daemon answered but /_ping failed: fall back to the oldest version we support.
		p = Ping{}
	}
	c.version = NegotiatedVersion(p.APIVersion)
	c.negotiated = true
	return c.version, nil
}

// NegotiatedVersion is the version a client speaking api.DefaultVersion uses with a daemon that
// advertises server ("" when it advertised nothing).
func NegotiatedVersion(server string) string {
	server = strings.TrimPrefix(strings.TrimSpace(server), "v")
	if server == "" {
		return api.MinVersion
	}
	if CompareVersions(server, api.DefaultVersion) < 0 {
		return server
	}
	return api.DefaultVersion
}

// CompareVersions compares dotted API versions numerically: -1 if a < b, 0 if equal, 1 if a > b.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
