// Package cli is the core of the berth command line: the standard streams, global options, the
// config file and the API client every command uses.
package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli/config"
	"github.com/spf13/cobra"
)

// Options are the global flags.
type Options struct {
	Hosts     []string // -H/--host
	LogLevel  string   // -l/--log-level
	Debug     bool     // -D/--debug
	ConfigDir string   // --config
}

// Cli is what every command gets: streams, config, client.
type Cli struct {
	in     *InStream
	out    *OutStream
	err    io.Writer
	getenv func(string) string

	host   string
	client *client.Client
	config *config.File
	logger *slog.Logger
	debug  bool
}

// New returns a Cli on the given streams; getenv reads the environment (os.Getenv in main).
func New(in io.Reader, out, errOut io.Writer, getenv func(string) string) *Cli {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &Cli{
		in:     NewInStream(in),
		out:    NewOutStream(out),
		err:    errOut,
		getenv: getenv,
		logger: slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelInfo})),
		config: &config.File{AuthConfigs: map[string]config.AuthConfig{}},
	}
}

// In is standard input.
func (c *Cli) In() *InStream { return c.in }

// Out is standard output.
func (c *Cli) Out() *OutStream { return c.out }

// Err is standard error.
func (c *Cli) Err() io.Writer { return c.err }

// Getenv reads an environment variable.
func (c *Cli) Getenv(k string) string { return c.getenv(k) }

// Logger logs at the level chosen with --log-level / --debug.
func (c *Cli) Logger() *slog.Logger { return c.logger }

// ConfigFile is the loaded config.json.
func (c *Cli) ConfigFile() *config.File { return c.config }

// Host is the daemon address in use.
func (c *Cli) Host() string { return c.host }

// Debug reports whether debug mode is on.
func (c *Cli) Debug() bool { return c.debug }

// Client is the API client; valid after Initialize.
func (c *Cli) Client() *client.Client { return c.client }

// ParseLogLevel maps a --log-level value to a slog level.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug", "trace":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "fatal", "panic":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("Unable to parse logging level: %s", s)
}

// Initialize applies the global options: logging, config file and client.
func (c *Cli) Initialize(opts Options) error {
	level, err := ParseLogLevel(opts.LogLevel)
	if err != nil {
		return err
	}
	if opts.Debug {
		level = slog.LevelDebug
		c.debug = true
	}
	c.logger = slog.New(slog.NewTextHandler(c.err, &slog.HandlerOptions{Level: level}))

	cfg, err := config.Load(config.Dir(opts.ConfigDir, c.getenv))
	if err != nil {
		fmt.Fprintf(c.err, "WARNING: Error loading config file: %v\n", err)
	}
	c.config = cfg

	host, err := ResolveHost(opts.Hosts, c.getenv)
	if err != nil {
		return fmt.Errorf("Failed to initialize: unable to resolve berth endpoint: %w", err)
	}
	c.host = host
	copts := []client.Option{client.WithUserAgent("berth-cli/" + BuildInfo().Version)}
	if v := c.getenv("DOCKER_API_VERSION"); v != "" {
		copts = append(copts, client.WithVersion(v))
	}
	cl, err := client.New(host, copts...)
	if err != nil {
		return fmt.Errorf("Failed to initialize: unable to resolve berth endpoint: %w", err)
	}
	c.client = cl
	return nil
}

// Confirm prints message with " [y/N] " and reads one answer line from stdin; only y or Y
// agree. An interrupt (ctx done) answers no.
func (c *Cli) Confirm(ctx context.Context, message string) (bool, error) {
	fmt.Fprint(c.out, message+" [y/N] ")
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(c.in).ReadString('\n')
		answer <- strings.TrimSpace(line)
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(c.out)
		return false, CancelledError{Reason: "prompt terminated"}
	case a := <-answer:
		return strings.EqualFold(a, "y"), nil
	}
}

// Build describes this berth binary.
type Build struct {
	Version   string
	GitCommit string
	BuildTime string
	GoVersion string
}

// BuildInfo reads the version, commit and build time the Go toolchain stamped into the binary.
func BuildInfo() Build {
	b := Build{Version: "dev", GitCommit: "unknown", BuildTime: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.GoVersion = info.GoVersion
	if v := info.Main.Version; v != "" && v != "(devel)" {
		b.Version = strings.TrimPrefix(v, "v")
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.GitCommit = s.Value
			if len(b.GitCommit) > 7 {
				b.GitCommit = b.GitCommit[:7]
			}
		case "vcs.time":
			b.BuildTime = s.Value
		}
	}
	return b
}

// Annotations on cobra commands understood by the help renderer.
const (
	// AnnotationAliases lists other command paths (comma-separated, without the binary name) that
	// run the same command, e.g. "image ls, image list, images".
	AnnotationAliases = "aliases"
	// AnnotationCommon puts a top-level command under "Common Commands" in the root help.
	AnnotationCommon = "category-top"
)

// WithAliases records the other command paths of cmd for its help text.
func WithAliases(cmd *cobra.Command, paths string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[AnnotationAliases] = paths
	return cmd
}
