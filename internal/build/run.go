package build

import (
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	"github.com/berth-project/berth/internal/build/dockerfile"
	containersvc "github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
)

// runStep runs RUN in a container of the current image; the container's filesystem diff is the
// step's layer.
func (b *builder) runStep(ctx context.Context, st *state, c *instructions.RunCommand) (bool, error) {
	if st.img == nil {
		return false, errdefs.InvalidArgumentf("RUN needs a filesystem: FROM scratch has no shell to run %q", strings.Join(c.CmdLine, " "))
	}
	cmdline := c.ShellDependantCmdLine
	if len(c.Files) > 0 {
		cmdline = heredocCommand(c)
	}
	argv := b.argv(st, cmdline)
	vars, hidden := st.scope.RunVars(st.cfg.Config.Env)
	var shown []string
	for _, v := range vars {
		if !hidden[v] {
			shown = append(shown, v)
		}
	}
	netMode := b.opts.NetworkMode
	switch instructions.GetNetwork(c) {
	case instructions.NetworkNone:
		netMode = "none"
	case instructions.NetworkHost:
		netMode = "host"
	}
	mounts, inputs, release, err := b.runMounts(ctx, st, c)
	if err != nil {
		return false, err
	}
	defer release()
	inputs += " net=" + netMode
	createdBy := dockerfile.Run(argv, shown)
	return b.commit(ctx, st, createdBy, inputs, nil, func(ctx context.Context) (io.Reader, func(), error) {
		id, err := b.runContainer(ctx, st, argv, vars, netMode, mounts)
		if id == "" {
			return nil, nil, err
		}
		cleanup := func() {
			if rerr := b.s.containers.Remove(context.Background(), id, true, true); rerr != nil {
				b.s.log.Warn("remove build container", "id", id, "err", rerr)
			}
		}
		if err != nil {
			// As docker's: a failed step's container stays for a look unless --force-rm.
			if b.opts.ForceRemove {
				cleanup()
			}
			return nil, nil, err
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(b.s.containers.LayerTar(ctx, id, pw)) }()
		return pr, func() {
			pr.Close()
			if b.opts.Remove || b.opts.ForceRemove {
				st.out.Line("Removing intermediate container " + id[:12])
				cleanup()
			}
		}, nil
	})
}

// heredocCommand is the shell command of a RUN with heredocs: a lone heredoc is the script
// itself; otherwise the heredocs follow the command line as a shell reads them.
func heredocCommand(c *instructions.RunCommand) instructions.ShellDependantCmdLine {
	out := c.ShellDependantCmdLine
	if len(c.CmdLine) == 1 && len(c.Files) == 1 && parser.MustParseHeredoc(c.CmdLine[0]) != nil {
		data := c.Files[0].Data
		if c.Files[0].Chomp {
			data = parser.ChompHeredocContent(data)
		}
		out.CmdLine = []string{data}
		return out
	}
	script := strings.Join(c.CmdLine, " ")
	for _, f := range c.Files {
		script += "\n" + f.Data + f.Name
	}
	out.CmdLine = []string{script}
	return out
}

// runMounts turns RUN --mount flags into container mounts, and describes them for the cache key.
func (b *builder) runMounts(ctx context.Context, st *state, c *instructions.RunCommand) (_ []mount.Mount, _ string, release func(), err error) {
	var out []mount.Mount
	var desc []string
	var releases []func()
	release = func() {
		for _, r := range releases {
			r()
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	for _, m := range instructions.GetMounts(c) {
		target := m.Target
		if !strings.HasPrefix(target, "/") {
			target = filepath.Join("/", st.cfg.Config.WorkingDir, target)
		}
		switch m.Type {
		case instructions.MountTypeCache:
			id := m.CacheID
			if id == "" {
				id = target
			}
			dir := filepath.Join(b.s.root, "cache", strings.NewReplacer("/", "_", ".", "_").Replace(id))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, "", nil, err
			}
			out = append(out, mount.Mount{Type: mount.TypeBind, Source: dir, Target: target, ReadOnly: m.ReadOnly})
			desc = append(desc, "cache:"+id+":"+target)
		case instructions.MountTypeTmpfs:
			out = append(out, mount.Mount{Type: mount.TypeTmpfs, Target: target, TmpfsOptions: &mount.TmpfsOptions{SizeBytes: m.SizeLimit}})
			desc = append(desc, "tmpfs:"+target)
		case instructions.MountTypeBind:
			root, rel, err := b.copySource(ctx, st, m.From)
			if err != nil {
				return nil, "", nil, err
			}
			releases = append(releases, rel)
			src := filepath.Join(root, filepath.Clean("/"+m.Source))
			// Bind mounts are read-only unless rw is asked for (BuildKit's parser sets ReadOnly); with rw,
			// writes land in the source, never in the layer.
			out = append(out, mount.Mount{Type: mount.TypeBind, Source: src, Target: target, ReadOnly: m.ReadOnly})
			desc = append(desc, "bind:"+m.From+":"+m.Source+":"+target)
		case instructions.MountTypeSecret, instructions.MountTypeSSH:
			if m.Required {
				return nil, "", nil, errdefs.NotImplementedf("RUN --mount=type=%s needs a BuildKit session, which the legacy build API does not have", m.Type)
			}
			desc = append(desc, string(m.Type)+":skipped")
		}
	}
	return out, strings.Join(desc, ","), release, nil
}

// runContainer creates, starts and waits for a RUN container, streaming its output; it returns
// the container's ID (also on failure, when one was made) and the step's error.
func (b *builder) runContainer(ctx context.Context, st *state, argv, vars []string, netMode string, mounts []mount.Mount) (string, error) {
	cfg := &container.Config{
		Image: st.img.ID.String(), Entrypoint: argv[:1], Cmd: argv[1:],
		Env:          append(append([]string{}, st.cfg.Config.Env...), vars...),
		User:         st.cfg.Config.User,
		WorkingDir:   st.cfg.Config.WorkingDir,
		Labels:       map[string]string{buildLabel: "1"},
		Healthcheck:  &container.HealthConfig{Test: []string{"NONE"}},
		AttachStdout: true, AttachStderr: true,
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = "/"
	}
	hc := &container.HostConfig{NetworkMode: container.NetworkMode(netMode), ExtraHosts: b.opts.ExtraHosts, Mounts: mounts,
		Resources: b.opts.Resources, ShmSize: b.opts.ShmSize}
	hc.CgroupParent = b.opts.CgroupParent
	id, _, err := b.s.containers.Create(ctx, "", cfg, hc, nil)
	if err != nil {
		return "", err
	}
	st.out.Line(" ---> Running in " + id[:12])
	attached := make(chan struct{})
	streamed := make(chan error, 1)
	pr, pw := io.Pipe()
	go func() {
		streamed <- b.s.containers.Attach(ctx, id, containersvc.AttachOptions{Stdout: true, Stderr: true, Stream: true}, func() (io.ReadWriter, error) {
			close(attached)
			return attachConn{pw}, nil
		})
		pw.Close()
	}()
	demuxed := make(chan struct{})
	go func() { defer close(demuxed); demux(pr, st.out) }()
	select {
	case <-attached:
	case err := <-streamed:
		return id, err
	}
	wait, err := b.s.containers.Wait(ctx, id, "next-exit")
	if err != nil {
		return id, err
	}
	if err := b.s.containers.Start(ctx, id); err != nil {
		return id, err
	}
	res := <-wait
	<-streamed
	<-demuxed
	if res.Err != nil {
		return id, res.Err
	}
	if res.StatusCode != 0 {
		return id, errdefs.InvalidArgumentf("The command '%s' returned a non-zero code: %d", strings.Join(argv, " "), res.StatusCode)
	}
	return id, nil
}

// attachConn is the attach "connection" of a RUN container: output goes to the demuxer, and
// there is no input.
type attachConn struct{ w io.Writer }

func (c attachConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (c attachConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// demux reads docker's multiplexed frames (8-byte header: stream, 0, 0, 0, big-endian length)
// and passes the payloads on as build output.
func demux(r io.Reader, out Reporter) {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			io.Copy(io.Discard, r)
			return
		}
		buf := make([]byte, binary.BigEndian.Uint32(hdr[4:]))
		if _, err := io.ReadFull(r, buf); err != nil {
			io.Copy(io.Discard, r)
			return
		}
		out.Output(buf)
	}
}

// fromCacheSources looks for the step in the --cache-from images: one whose history and layers
// start with the current image's and whose next history entry is this step. The step's image is
// then made from that image's entry and layer with the config this build computed, as docker's
// classic builder restores a cached image.
func (b *builder) fromCacheSources(ctx context.Context, st *state, createdBy string, empty bool, cfg image.Config) *image.Image {
	if len(b.opts.CacheFrom) == 0 || st.img == nil {
		return nil
	}
	hist, diffs := st.img.Config.History, st.img.Config.RootFS.DiffIDs
	for _, name := range b.opts.CacheFrom {
		src, err := b.s.images.Get(ctx, name)
		if err != nil || len(src.Config.History) <= len(hist) || len(src.Config.RootFS.DiffIDs) < len(diffs) {
			continue
		}
		match := true
		for i := range hist {
			if hist[i].CreatedBy != src.Config.History[i].CreatedBy || hist[i].EmptyLayer != src.Config.History[i].EmptyLayer {
				match = false
				break
			}
		}
		for i := range diffs {
			if diffs[i] != src.Config.RootFS.DiffIDs[i] {
				match = false
			}
		}
		next := src.Config.History[len(hist)]
		if !match || next.CreatedBy != createdBy || (empty && !next.EmptyLayer) {
			continue
		}
		cfg.History = append(cfg.History, next)
		cfg.Created = next.Created
		var layer *image.StepLayer
		if !next.EmptyLayer {
			if len(src.Manifest.Layers) <= len(diffs) {
				continue
			}
			layer = &image.StepLayer{Blob: src.Manifest.Layers[len(diffs)].Digest}
		}
		id, err := b.s.images.BuildStep(ctx, st.img, cfg, layer)
		if err != nil {
			b.s.log.Warn("restore step from --cache-from image", "image", name, "err", err)
			continue
		}
		if img, err := b.s.images.Get(ctx, id.String()); err == nil {
			return img
		}
	}
	return nil
}
