// Package build is berth's Dockerfile builder. It parses with BuildKit's Dockerfile packages
// (through build/dockerfile) and executes the steps itself: metadata instructions make a new image
// config, RUN runs a container through the container service and takes its filesystem diff as a
// layer, COPY and ADD write a layer tar straight from the build context. Every step's result is an
// image the image service keeps hidden (build cache) under a key of its parent and its inputs, so
// a repeated build reuses it; the last step of the target is revealed and tagged.
package build

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/api/filters"
	apitypes "github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/build/dockerfile"
	containersvc "github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/host"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/metadata"
)

// Images is what the builder needs from the image service.
type Images interface {
	Get(ctx context.Context, name string) (*image.Image, error)
	Pull(ctx context.Context, name string, allTags bool, opts image.PullOptions, rep image.Reporter) error
	BuildStep(ctx context.Context, parent *image.Image, cfg image.Config, layer *image.StepLayer) (digest.Digest, error)
	Reveal(ctx context.Context, id digest.Digest, refs []string, progress image.Progress) ([]string, error)
	HiddenImages() (map[digest.Digest]*image.Image, error)
	DropHidden(ctx context.Context, ids []digest.Digest) (int64, error)
}

// Containers is what RUN needs from the container service.
type Containers interface {
	Create(ctx context.Context, name string, cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig) (string, []string, error)
	Attach(ctx context.Context, ref string, opts containersvc.AttachOptions, open func() (io.ReadWriter, error)) error
	Start(ctx context.Context, ref string) error
	Wait(ctx context.Context, ref, condition string) (<-chan containersvc.WaitResult, error)
	LayerTar(ctx context.Context, ref string, w io.Writer) error
	Remove(ctx context.Context, ref string, force, removeVolumes bool) error
	List(ctx context.Context, all bool, limit int, f filters.Args) ([]container.Summary, error)
}

// Layers reads image filesystems: the unpacked diff of a layer and a read-only union of a chain.
type Layers interface {
	DiffDir(chainID digest.Digest) string
	MountReadOnly(chain []digest.Digest, target string) error
}

// buildLabel marks the containers RUN makes, so that the ones a crash left behind are removed.
const buildLabel = "berth.build"

// Service runs builds and owns the build cache.
type Service struct {
	root       string // data-root/build: tmp/ (contexts, mounts in flight), cache/ (RUN --mount=type=cache)
	db         *metadata.DB
	images     Images
	containers Containers
	layers     Layers
	log        *slog.Logger
	http       *http.Client

	// mu serialises cache-record writes with prune.
	mu sync.Mutex
}

// New opens the builder under root and removes what a build killed midway left: temporary
// directories, RUN containers, and hidden images no cache record names.
func New(ctx context.Context, root string, db *metadata.DB, images Images, containers Containers, layers Layers, hc *http.Client, log *slog.Logger) (*Service, error) {
	s := &Service{root: root, db: db, images: images, containers: containers, layers: layers, http: hc, log: log}
	if err := os.RemoveAll(filepath.Join(root, "tmp")); err != nil {
		return nil, err
	}
	if err := host.MkdirSpread(filepath.Join(root, "tmp"), 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(root, "cache"), 0o700); err != nil {
		return nil, err
	}
	leftovers, err := containers.List(ctx, true, -1, filters.Args{"label": {buildLabel: true}})
	if err != nil {
		return nil, err
	}
	for _, c := range leftovers {
		if err := containers.Remove(ctx, c.ID, true, true); err != nil {
			log.Warn("remove leftover build container", "id", c.ID, "err", err)
		}
	}
	if err := s.sweep(ctx); err != nil {
		return nil, fmt.Errorf("build cache: %w", err)
	}
	return s, nil
}

// Options are the parameters of one build.
type Options struct {
	Dockerfile  string // path inside the context; "Dockerfile" when empty
	Remote      string // URL of a context or Dockerfile, instead of the request body
	Tags        []string
	BuildArgs   map[string]string
	Labels      map[string]string
	Target      string
	NoCache     bool
	Pull        bool
	CacheFrom   []string
	NetworkMode string
	ExtraHosts  []string
	Platform    string
	Remove      bool // remove a RUN container after its step succeeded (--rm, docker's default)
	ForceRemove bool // remove it whatever the outcome (--force-rm)
	// Resources, ShmSize and CgroupParent apply to the RUN containers (--memory, --cpu-shares,
	// --ulimit, ... of the legacy builder).
	Resources    container.Resources
	ShmSize      int64
	CgroupParent string
}

// Reporter receives what a build shows as it goes.
type Reporter interface {
	// Line is a text line of the legacy output ("Step 1/3 : FROM busybox").
	Line(text string)
	// Output is raw output of a RUN step.
	Output(p []byte)
	// Step reports a step starting or ending, for BuildKit-style displays.
	Step(ev apitypes.BuildStep)
	// Aux sends the machine-readable result.
	Aux(v any)
}

// Result is the outcome of a successful build.
type Result struct {
	ID   digest.Digest
	Tags []string // familiar names
}

// Build runs a build of the context tar in body (nil with opts.Remote) and returns the image.
func (s *Service) Build(ctx context.Context, body io.Reader, opts Options, rep Reporter) (*Result, error) {
	if opts.Platform != "" && opts.Platform != dockerfile.Platform && opts.Platform != dockerfile.OS {
		return nil, errdefs.InvalidArgumentf("platform %q is not supported: berth builds only for %s", opts.Platform, dockerfile.Platform)
	}
	bctx, err := s.openContext(ctx, body, opts)
	if err != nil {
		return nil, err
	}
	defer bctx.Close()
	file, err := dockerfile.Parse(bctx.dockerfile)
	if err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	b, err := s.newBuilder(bctx, file, opts, rep)
	if err != nil {
		return nil, err
	}
	img, err := b.run(ctx)
	b.saveCache()
	if err != nil {
		return nil, err
	}
	if unused := b.args.Unused(); len(unused) > 0 {
		rep.Line(fmt.Sprintf("[Warning] One or more build-args [%s] were not consumed", strings.Join(unused, " ")))
	}
	names, err := s.images.Reveal(ctx, img.ID, opts.Tags, lineProgress{rep})
	if err != nil {
		return nil, err
	}
	rep.Aux(struct{ ID string }{img.ID.String()})
	rep.Line("Successfully built " + img.ID.Encoded()[:12])
	for _, n := range names {
		rep.Line("Successfully tagged " + n)
	}
	return &Result{ID: img.ID, Tags: names}, nil
}

// lineProgress passes the image service's notes on to the build output.
type lineProgress struct{ rep Reporter }

func (p lineProgress) Layer(string, string, int64, int64) {}
func (p lineProgress) Line(text string)                   { p.rep.Line(text) }

// configCopy deep-copies an image config so a step never changes its parent's cached one.
func configCopy(c image.Config) image.Config {
	raw, _ := json.Marshal(c)
	var out image.Config
	_ = json.Unmarshal(raw, &out)
	return out
}

func now() *time.Time {
	t := time.Now().UTC()
	return &t
}
