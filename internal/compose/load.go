// Package compose turns a compose project (loaded and normalised by compose-spec/compose-go) into
// Engine API calls: it converges networks, volumes and containers to the project's model the way
// docker compose v2 does, with the same names and com.docker.compose.* labels, so docker compose,
// docker-compose v1 and berth compose all see the same project. It reaches the daemon only through
// client/.
package compose

import (
	"context"
	"errors"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadOptions are the project flags shared by every compose command.
type LoadOptions struct {
	Files      []string // -f; empty means discovery (COMPOSE_FILE, then compose.yaml & co upwards)
	Name       string   // -p; else COMPOSE_PROJECT_NAME, the top-level name:, the directory
	ProjectDir string   // --project-directory; else the first file's directory
	EnvFiles   []string // --env-file; else .env in the project directory
	Profiles   []string // --profile; else COMPOSE_PROFILES
	Environ    []string // the process environment (KEY=VALUE)
}

// ErrNoConfig is returned by Load when discovery finds no compose file.
var ErrNoConfig = errors.New("no configuration file provided: not found")

// Load reads, merges, interpolates and validates the project.
func Load(ctx context.Context, o LoadOptions) (*types.Project, error) {
	opts, err := cli.NewProjectOptions(o.Files,
		cli.WithWorkingDirectory(o.ProjectDir),
		cli.WithEnv(o.Environ),
		cli.WithEnvFiles(o.EnvFiles...),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithName(o.Name),
		cli.WithDefaultProfiles(o.Profiles...),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, err
	}
	if len(opts.ConfigPaths) == 0 {
		return nil, ErrNoConfig
	}
	return opts.LoadProject(ctx)
}

// NameOnly is the project of commands that work from labels alone (down, ps, logs -p name)
// when no compose file is at hand.
func NameOnly(name string) *types.Project {
	wd, _ := os.Getwd()
	return &types.Project{Name: name, WorkingDir: wd, Services: types.Services{}}
}
