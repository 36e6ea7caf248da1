// Package container is berth's container service: the lifecycle state machine (created, running,
// exited, removing), the records of every container on disk, and the operations on them. Processes
// are run through the per-container shim, so a container outlives berthd and is re-adopted on start.
package container

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/metadata"
	netsvc "github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/volume"
)

// State is a container's runtime state as docker reports it.
type State struct {
	Status     string // created, running, paused, restarting, removing, exited, dead
	Running    bool
	Paused     bool
	Restarting bool
	OOMKilled  bool
	Dead       bool
	Pid        int
	ExitCode   int
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
	Health     *container.Health `json:",omitempty"`
}

// Container is the persistent record of one container.
type Container struct {
	mu      sync.Mutex
	exited  chan struct{} // closed at the next exit
	removed chan struct{} // closed on removal
	pending []*pendingAttach

	ID           string
	Name         string // with the leading slash, as docker stores it
	Created      time.Time
	Image        digest.Digest
	ImageName    string // what the user asked for
	Config       *container.Config
	HostConfig   *container.HostConfig
	State        State
	RestartCount int
	// HasBeenStartedBefore and ManualStop steer the restart policy like docker's flags of the same names.
	HasBeenStartedBefore bool
	ManualStop           bool
	Path                 string
	Args                 []string
	LogPath              string
	HostnamePath         string
	HostsPath            string
	ResolvConfPath       string
	// MountPoints are the container's volumes, binds and tmpfs mounts, resolved at create.
	MountPoints []volume.MountPoint `json:",omitempty"`
	// Endpoints are the networks the container joins, by network name, as requested.
	Endpoints map[string]*network.EndpointSettings `json:",omitempty"`
	// Sandbox is the network stack of the current run; nil when not running.
	Sandbox *netsvc.Sandbox `json:",omitempty"`
}

// newID returns a random 64-hex container ID.
func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// save writes the record atomically to dir/config.json.
func (c *Container) save(dir string) error { return c.write(dir, metadata.WriteFile) }

// saveState records a change of run state (start, exit, health): atomically, but without the
// fsyncs of save, since a running state means nothing after a power loss anyway.
func (c *Container) saveState(dir string) error { return c.write(dir, metadata.ReplaceFile) }

func (c *Container) write(dir string, put func(string, []byte, os.FileMode) error) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return put(filepath.Join(dir, "config.json"), raw, 0o600)
}

func loadRecord(dir string) (*Container, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	c := &Container{}
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("container record %s: %w", dir, err)
	}
	return c, nil
}

// statusText renders the human Status column of `ps`: "Up 3 seconds", "Exited (0) 2 minutes ago".
func (c *Container) statusText(now time.Time) string {
	s := c.State
	switch {
	case s.Restarting:
		return fmt.Sprintf("Restarting (%d) %s ago", s.ExitCode, humanDuration(now.Sub(s.FinishedAt)))
	case s.Running && s.Paused:
		return "Up " + humanDuration(now.Sub(s.StartedAt)) + " (Paused)"
	case s.Running && s.Health != nil:
		if s.Health.Status == container.Starting {
			return "Up " + humanDuration(now.Sub(s.StartedAt)) + " (health: starting)"
		}
		return "Up " + humanDuration(now.Sub(s.StartedAt)) + " (" + string(s.Health.Status) + ")"
	case s.Running:
		return "Up " + humanDuration(now.Sub(s.StartedAt))
	case s.Status == "removing":
		return "Removal In Progress"
	case s.Dead:
		return "Dead"
	case s.StartedAt.IsZero():
		return "Created"
	default:
		return fmt.Sprintf("Exited (%d) %s ago", s.ExitCode, humanDuration(now.Sub(s.FinishedAt)))
	}
}

// humanDuration is docker's coarse duration wording ("Less than a second", "About a minute", "3 hours").
func humanDuration(d time.Duration) string {
	switch secs := int(d.Seconds()); {
	case secs < 1:
		return "Less than a second"
	case secs == 1:
		return "1 second"
	case secs < 60:
		return fmt.Sprintf("%d seconds", secs)
	}
	switch mins := int(d.Minutes()); {
	case mins == 1:
		return "About a minute"
	case mins < 60:
		return fmt.Sprintf("%d minutes", mins)
	}
	switch hours := int(d.Hours() + 0.5); {
	case hours == 1:
		return "About an hour"
	case hours < 48:
		return fmt.Sprintf("%d hours", hours)
	case hours < 24*7*2:
		return fmt.Sprintf("%d days", hours/24)
	case hours < 24*30*2:
		return fmt.Sprintf("%d weeks", hours/24/7)
	case hours < 24*365*2:
		return fmt.Sprintf("%d months", hours/24/30)
	default:
		return fmt.Sprintf("%d years", hours/24/365)
	}
}

var adjectives = strings.Fields("admiring brave busy calm clever cool dreamy eager elastic epic focused frosty gallant happy hopeful jolly keen kind loving lucid modest nifty nostalgic peaceful quirky relaxed serene sharp stoic sweet tender trusting upbeat vibrant wizardly zealous")
var surnames = strings.Fields("archimedes babbage bell bohr curie darwin dijkstra einstein euclid faraday fermi franklin galileo hamilton hopper hypatia kepler knuth lamarr lovelace maxwell meitner newton noether pascal ritchie shannon tesla thompson torvalds turing wozniak yalow")

// randomName makes a docker-style adjective_surname name.
func randomName() string {
	b := make([]byte, 2)
	rand.Read(b)
	return adjectives[int(b[0])%len(adjectives)] + "_" + surnames[int(b[1])%len(surnames)]
}
