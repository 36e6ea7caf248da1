package build

import (
	"context"
	"fmt"
	apitypes "github.com/berth-project/berth/api/types"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/build/dockerfile"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
)

// defaultPath is the PATH a build from scratch starts with, as docker's.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// builder is one build in progress.
type builder struct {
	s      *Service
	bctx   *buildContext
	file   *dockerfile.File
	opts   Options
	args   *dockerfile.Args
	target int
	stages []*stageRun
	total  int

	cacheMu sync.Mutex
	cache   map[string]*cacheRecord // records to write when the build ends

	pullMu sync.Mutex
}

// stageRun is one stage of the build: its position in the step numbering and its outcome.
type stageRun struct {
	needed bool
	base   string // the FROM name with ARGs expanded
	first  int    // step number of its FROM
	count  int    // steps, FROM included
	done   chan struct{}
	img    *image.Image
	err    error
	out    *queue
}

func (s *Service) newBuilder(bctx *buildContext, file *dockerfile.File, opts Options, rep Reporter) (*builder, error) {
	args, err := dockerfile.NewArgs(file, opts.BuildArgs)
	if err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	b := &builder{s: s, bctx: bctx, file: file, opts: opts, args: args, cache: map[string]*cacheRecord{}}
	if b.target, err = file.Target(opts.Target); err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	lex := shell.NewLex(file.Escape)
	for i, st := range file.Stages {
		base, _, err := lex.ProcessWord(st.BaseName, args.Meta())
		if err != nil {
			return nil, errdefs.As(errdefs.InvalidArgument, file.Wrap(err, st.Location[0].Start.Line))
		}
		if base == "" {
			return nil, errdefs.As(errdefs.InvalidArgument, file.Wrap(fmt.Errorf("base name (%s) should not be blank", st.BaseName), st.Location[0].Start.Line))
		}
		if st.Platform != "" {
			p, _, err := lex.ProcessWord(st.Platform, args.Meta())
			if err == nil && p != dockerfile.Platform && p != dockerfile.OS {
				return nil, errdefs.As(errdefs.InvalidArgument, file.Wrap(fmt.Errorf("platform %q is not supported: berth builds only for %s", p, dockerfile.Platform), st.Location[0].Start.Line))
			}
		}
		b.stages = append(b.stages, &stageRun{base: base, done: make(chan struct{}), out: newQueue()})
		_ = i
	}
	b.mark(b.target)
	n := 0
	for i, sr := range b.stages {
		if !sr.needed {
			continue
		}
		sr.first, sr.count = n+1, 1+len(file.Stages[i].Commands)
		if i == b.target && len(opts.Labels) > 0 {
			sr.count++
		}
		n += sr.count
	}
	b.total = n
	go b.drain(rep)
	return b, nil
}

// mark flags stage i and every stage it reads from as needed.
func (b *builder) mark(i int) {
	if b.stages[i].needed {
		return
	}
	b.stages[i].needed = true
	for _, d := range b.file.Deps(i, b.stages[i].base) {
		b.mark(d)
	}
}

// run builds the needed stages, independent ones concurrently, and returns the target's image.
func (b *builder) run(ctx context.Context) (*image.Image, error) {
	for i, sr := range b.stages {
		if !sr.needed {
			close(sr.done)
			sr.out.close()
			continue
		}
		go func() {
			defer close(sr.done)
			defer sr.out.close()
			sr.img, sr.err = b.runStage(ctx, i)
		}()
	}
	// Failures are reported in stage order, as a sequential build would meet them.
	for _, sr := range b.stages {
		<-sr.out.drained
		if sr.err != nil {
			return nil, sr.err
		}
	}
	return b.stages[b.target].img, nil
}

// drain passes every stage's output to rep in stage order: the first unfinished stage's live,
// later ones' as soon as it is their turn.
func (b *builder) drain(rep Reporter) {
	for _, sr := range b.stages {
		sr.out.replay(rep)
	}
}

// state is what a stage carries from step to step.
type state struct {
	img    *image.Image // nil: scratch with nothing committed yet
	cfg    image.Config
	scope  *dockerfile.Scope
	lex    *shell.Lex
	cmdSet bool // CMD given in this stage (ENTRYPOINT then keeps it)
	stage  int
	out    Reporter
	sr     *stageRun
	n      int // current step number
	index  int // current step within the stage
}

func (st *state) shell() []string {
	if len(st.cfg.Config.Shell) > 0 {
		return st.cfg.Config.Shell
	}
	return dockerfile.DefaultShell
}

// env is the environment instructions expand in.
func (st *state) env() dockerfile.Env { return st.scope.Env(st.cfg.Config.Env) }

func (b *builder) runStage(ctx context.Context, i int) (*image.Image, error) {
	sr := b.stages[i]
	stage := b.file.Stages[i]
	st := &state{scope: b.args.Stage(), lex: shell.NewLex(b.file.Escape), stage: i, out: sr.out, sr: sr, n: sr.first, index: 1}
	start := time.Now()
	b.stepStart(st, stage.SourceCode)
	if err := b.from(ctx, st, stage); err != nil {
		return nil, b.stepFail(st, start, stage.Location, err)
	}
	b.stepEnd(st, start, false)
	for _, cmd := range stage.Commands {
		st.n++
		st.index++
		start := time.Now()
		b.stepStart(st, fmt.Sprint(cmd))
		cached, err := b.dispatch(ctx, st, cmd)
		if err != nil {
			return nil, b.stepFail(st, start, cmd.Location(), err)
		}
		b.stepEnd(st, start, cached)
	}
	if i == b.target && len(b.opts.Labels) > 0 {
		st.n++
		st.index++
		start := time.Now()
		text := labelText(b.opts.Labels)
		b.stepStart(st, text)
		cached, err := b.dispatchText(ctx, st, text)
		if err != nil {
			return nil, b.stepFail(st, start, nil, err)
		}
		b.stepEnd(st, start, cached)
	}
	if st.img == nil {
		// FROM scratch with metadata only still makes an image.
		if _, err := b.commit(ctx, st, "", "", nil, nil); err != nil {
			return nil, err
		}
	}
	return st.img, nil
}

func (b *builder) stepStart(st *state, text string) {
	st.out.Line(fmt.Sprintf("Step %d/%d : %s", st.n, b.total, text))
	st.out.Step(apitypes.BuildStep{N: st.n, Total: b.total, Stage: b.file.Stages[st.stage].Name, Index: st.index, Count: st.sr.count, Text: text})
}

func (b *builder) stepEnd(st *state, start time.Time, cached bool) {
	if st.img != nil {
		st.out.Line(" ---> " + st.img.ID.Encoded()[:12])
	}
	st.out.Step(apitypes.BuildStep{N: st.n, Total: b.total, Stage: b.file.Stages[st.stage].Name, Index: st.index, Count: st.sr.count, Done: true, Cached: cached, Millis: time.Since(start).Milliseconds()})
}

func (b *builder) stepFail(st *state, start time.Time, loc []parser.Range, err error) error {
	line := 0
	if len(loc) > 0 {
		line = loc[0].Start.Line
	}
	err = b.file.Wrap(err, line)
	st.out.Step(apitypes.BuildStep{N: st.n, Total: b.total, Stage: b.file.Stages[st.stage].Name, Index: st.index, Count: st.sr.count, Done: true, Millis: time.Since(start).Milliseconds(), Error: err.Error()})
	if errdefs.ClassOf(err) == errdefs.Unknown {
		err = errdefs.As(errdefs.InvalidArgument, err)
	}
	return err
}

// from sets the stage's starting point: another stage, scratch, or an image (pulled if missing
// or with --pull), then runs the base image's ONBUILD triggers.
func (b *builder) from(ctx context.Context, st *state, stage instructions.Stage) error {
	sr := b.stages[st.stage]
	if j, ok := b.file.StageIndex(sr.base, st.stage); ok {
		dep := b.stages[j]
		<-dep.done
		if dep.err != nil {
			return fmt.Errorf("stage %s failed", sr.base)
		}
		st.img = dep.img
	} else if strings.EqualFold(sr.base, "scratch") {
		st.cfg = image.Config{}
		st.cfg.OS, st.cfg.Architecture = dockerfile.OS, dockerfile.Architecture
		st.cfg.Config.Env = []string{defaultPath}
		st.cfg.RootFS = ocispec.RootFS{Type: "layers"}
		return nil
	} else {
		img, err := b.baseImage(ctx, st.out, sr.base, b.opts.Pull)
		if err != nil {
			return err
		}
		st.img = img
	}
	st.cfg = configCopy(st.img.Config)
	triggers := st.cfg.Config.OnBuild
	if len(triggers) == 0 {
		return nil
	}
	// Triggers fire once: the image this stage makes does not carry them on.
	st.cfg.Config.OnBuild = nil
	st.out.Line(fmt.Sprintf("# Executing %d build trigger", len(triggers)) + map[bool]string{true: "s", false: ""}[len(triggers) > 1])
	for _, t := range triggers {
		if _, err := b.dispatchText(ctx, st, t); err != nil {
			return fmt.Errorf("failed to process ONBUILD trigger %q: %w", t, err)
		}
	}
	return nil
}

// baseImage finds a FROM or COPY --from image, pulling it when missing or when pull is set.
func (b *builder) baseImage(ctx context.Context, out Reporter, name string, pull bool) (*image.Image, error) {
	b.pullMu.Lock()
	defer b.pullMu.Unlock()
	img, err := b.s.images.Get(ctx, name)
	if err == nil && !pull {
		return img, nil
	}
	if err != nil && !errdefs.IsNotFound(err) {
		return nil, err
	}
	perr := b.s.images.Pull(ctx, name, false, image.PullOptions{Platform: dockerfile.Platform}, pullReporter{out})
	if perr != nil {
		if img != nil {
			return img, nil // --pull with no registry: the local image will do
		}
		return nil, perr
	}
	return b.s.images.Get(ctx, name)
}

// pullReporter shows a FROM's pull as status lines in the build output.
type pullReporter struct{ out Reporter }

func (p pullReporter) Layer(string, string, int64, int64) {}
func (p pullReporter) Line(text string)                   { p.out.Line(text) }
func (p pullReporter) Status(id, text string) {
	if id != "" {
		text = id + ": " + text
	}
	p.out.Line(text)
}
func (p pullReporter) Aux(any) {}

// dispatchText parses one instruction given as text (an ONBUILD trigger, the --label step) and
// runs it.
func (b *builder) dispatchText(ctx context.Context, st *state, text string) (bool, error) {
	res, err := parser.Parse(strings.NewReader(text + "\n"))
	if err != nil {
		return false, err
	}
	if len(res.AST.Children) != 1 {
		return false, errdefs.InvalidArgumentf("%q is not one instruction", text)
	}
	node := res.AST.Children[0]
	switch strings.ToUpper(node.Value) {
	case "ONBUILD", "FROM", "MAINTAINER":
		return false, errdefs.InvalidArgumentf("%s isn't allowed as an ONBUILD trigger", strings.ToUpper(node.Value))
	}
	cmd, err := instructions.ParseCommand(node)
	if err != nil {
		return false, err
	}
	return b.dispatch(ctx, st, cmd)
}

func labelText(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sortStrings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%q=%q", k, labels[k]))
	}
	return "LABEL " + strings.Join(parts, " ")
}

// commit finishes a step: the config after apply, a history entry with createdBy, and the layer
// makeLayer produces (none when nil). The step is looked up in the cache first (by parent, text,
// inputs and the resulting config); a hit costs no container and no copy. It reports whether
// the step came from the cache.
func (b *builder) commit(ctx context.Context, st *state, createdBy, inputs string, apply func(*image.Config), makeLayer func(ctx context.Context) (io.Reader, func(), error)) (bool, error) {
	cfg := configCopy(st.cfg)
	if apply != nil {
		apply(&cfg)
	}
	parentID := ""
	if st.img != nil {
		parentID = st.img.ID.String()
	}
	key := CacheKey(digestOf(parentID), createdBy, inputs, cfg.Config)
	if !b.opts.NoCache {
		if img, rec := b.s.lookup(ctx, key); img != nil {
			st.out.Line(" ---> Using cache")
			rec.LastUsed, rec.UsageCount = time.Now().UTC(), rec.UsageCount+1
			b.remember(key, rec)
			st.img, st.cfg = img, configCopy(img.Config)
			return true, nil
		}
		if img := b.fromCacheSources(ctx, st, createdBy, makeLayer == nil, cfg); img != nil {
			st.out.Line(" ---> Using cache")
			st.img, st.cfg = img, configCopy(img.Config)
			b.remember(key, &cacheRecord{Image: img.ID, Parent: digestOf(parentID), Description: createdBy, Created: time.Now().UTC(), LastUsed: time.Now().UTC()})
			return true, nil
		}
	}
	created := now()
	cfg.Created = created
	if createdBy != "" {
		cfg.History = append(cfg.History, ocispec.History{Created: created, CreatedBy: createdBy, EmptyLayer: makeLayer == nil})
	}
	var layer *image.StepLayer
	if makeLayer != nil {
		r, cleanup, err := makeLayer(ctx)
		if err != nil {
			return false, err
		}
		defer cleanup()
		layer = &image.StepLayer{Tar: r}
	}
	id, err := b.s.images.BuildStep(ctx, st.img, cfg, layer)
	if err != nil {
		return false, err
	}
	img, err := b.s.images.Get(ctx, id.String())
	if err != nil {
		return false, err
	}
	var size int64
	if st.img == nil || len(img.Chain) > len(st.img.Chain) {
		size = img.Size
		if st.img != nil {
			size -= st.img.Size
		}
	}
	b.remember(key, &cacheRecord{Image: id, Parent: digestOf(parentID), Description: createdBy, Size: size, Created: created.UTC(), LastUsed: created.UTC(), UsageCount: 0})
	st.img, st.cfg = img, configCopy(img.Config)
	return false, nil
}

func (b *builder) remember(key string, rec *cacheRecord) {
	b.cacheMu.Lock()
	b.cache[key] = rec
	b.cacheMu.Unlock()
}

// saveCache writes the records of the steps this build made or used, also after a failure, so
// the steps that succeeded are cached.
func (b *builder) saveCache() {
	b.cacheMu.Lock()
	defer b.cacheMu.Unlock()
	if err := b.s.store(b.cache); err != nil {
		b.s.log.Warn("save build cache", "err", err)
	}
}
