// Package api holds the wire-level constants and types of the Docker Engine API as berth serves it.
// Types that match moby's published API module are reused from there; this package adds only the
// shapes that differ at the API version berth advertises.
package api

const (
	// DefaultVersion is the highest Engine API version berthd speaks and advertises.
	DefaultVersion = "1.51"
	// MinVersion is the oldest Engine API version berthd accepts.
	MinVersion = "1.24"
)

// EngineVersion is berth's own release version, reported as the server version.
var EngineVersion = "0.1.0-dev"

// GitCommit is the commit berth was built from, set at link time.
var GitCommit = "unknown"

// BuildTime is when berth was built (RFC 3339), set at link time.
var BuildTime = ""
