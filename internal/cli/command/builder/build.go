// Package builder holds `berth build` and `berth builder prune`. The build context is sent as a
// tar with .dockerignore applied here, as docker's CLI does; on a terminal the daemon's step
// events (berth's aux extension of the legacy stream) are drawn BuildKit-style.
package builder

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
	"github.com/berth-project/berth/internal/cli/progress"
	"github.com/berth-project/berth/internal/tartree"
)

type buildOptions struct {
	tags, buildArgs, labels, cacheFrom, addHosts   []string
	file, target, iidfile, network, platform, mode string
	noCache, pull, quiet                           bool
	// The legacy builder's settings for the RUN containers.
	rm, forceRm, squash, compress, noTrust          bool
	memory, shmSize                                 opts.MemBytes
	memorySwap                                      opts.MemSwapBytes
	cpuShares, cpuPeriod, cpuQuota                  int64
	cpusetCpus, cpusetMems, cgroupParent, isolation string
	ulimits                                         *opts.Ulimits
}

// NewBuildCommand is `berth build` (also `berth image build`).
func NewBuildCommand(c *cli.Cli) *cobra.Command {
	o := buildOptions{ulimits: opts.NewUlimits()}
	cmd := &cobra.Command{
		Use:   "build [OPTIONS] PATH | URL | -",
		Short: "Build an image from a Dockerfile",
		Args:  cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd.Context(), c, o, args[0])
		},
	}
	cli.WithAliases(cmd, "image build, build, builder build")
	f := cmd.Flags()
	f.StringArrayVarP(&o.tags, "tag", "t", nil, `Name and optionally a tag in the "name:tag" format`)
	f.StringVarP(&o.file, "file", "f", "", `Name of the Dockerfile (Default is "PATH/Dockerfile")`)
	f.StringVar(&o.target, "target", "", "Set the target build stage to build")
	f.StringArrayVar(&o.buildArgs, "build-arg", nil, "Set build-time variables")
	f.StringArrayVar(&o.labels, "label", nil, "Set metadata for an image")
	f.BoolVar(&o.noCache, "no-cache", false, "Do not use cache when building the image")
	f.BoolVar(&o.pull, "pull", false, "Always attempt to pull a newer version of the image")
	f.StringVar(&o.iidfile, "iidfile", "", "Write the image ID to the file")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress the build output and print image ID on success")
	f.StringVar(&o.network, "network", "default", "Set the networking mode for the RUN instructions during build")
	f.StringArrayVar(&o.addHosts, "add-host", nil, "Add a custom host-to-IP mapping (host:ip)")
	f.StringArrayVar(&o.cacheFrom, "cache-from", nil, "Images to consider as cache sources")
	f.StringVar(&o.platform, "platform", "", "Set platform if server is multi-platform capable")
	f.StringVar(&o.mode, "progress", "auto", "Set type of progress output (auto, plain, tty)")
	f.BoolVar(&o.rm, "rm", true, "Remove intermediate containers after a successful build")
	f.BoolVar(&o.forceRm, "force-rm", false, "Always remove intermediate containers")
	f.BoolVar(&o.squash, "squash", false, "Squash newly built layers into a single new layer")
	f.BoolVar(&o.compress, "compress", false, "Compress the build context using gzip")
	f.BoolVar(&o.noTrust, "disable-content-trust", true, "Skip image verification")
	f.StringVar(&o.isolation, "isolation", "", "Container isolation technology")
	f.StringVar(&o.cgroupParent, "cgroup-parent", "", `Set the parent cgroup for the "RUN" instructions during build`)
	f.VarP(&o.memory, "memory", "m", "Memory limit")
	f.Var(&o.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
	f.Var(&o.shmSize, "shm-size", "Size of \"/dev/shm\"")
	f.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	f.Int64Var(&o.cpuPeriod, "cpu-period", 0, "Limit the CPU CFS (Completely Fair Scheduler) period")
	f.Int64Var(&o.cpuQuota, "cpu-quota", 0, "Limit the CPU CFS (Completely Fair Scheduler) quota")
	f.StringVar(&o.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	f.StringVar(&o.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	f.Var(o.ulimits, "ulimit", "Ulimit options")
	return cmd
}

func runBuild(ctx context.Context, c *cli.Cli, o buildOptions, src string) error {
	if !o.noTrust {
		return errors.New("content trust is not supported: images are not verified against signatures")
	}
	q := url.Values{}
	for _, t := range o.tags {
		q.Add("t", t)
	}
	args := map[string]*string{}
	for _, a := range o.buildArgs {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			env, set := os.LookupEnv(k)
			if !set {
				continue
			}
			v = env
		}
		args[k] = &v
	}
	labels := map[string]string{}
	for _, l := range o.labels {
		k, v, _ := strings.Cut(l, "=")
		labels[k] = v
	}
	for name, v := range map[string]any{"buildargs": args, "labels": labels, "cachefrom": o.cacheFrom} {
		raw, _ := json.Marshal(v)
		q.Set(name, string(raw))
	}
	for k, v := range map[string]string{"target": o.target, "networkmode": o.network, "platform": o.platform, "extrahosts": strings.Join(o.addHosts, ",")} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, v := range map[string]bool{"nocache": o.noCache, "pull": o.pull, "q": o.quiet} {
		if v {
			q.Set(k, "1")
		}
	}
	q.Set("rm", "0")
	if o.rm {
		q.Set("rm", "1")
	}
	for k, v := range map[string]bool{"forcerm": o.forceRm, "squash": o.squash} {
		if v {
			q.Set(k, "1")
		}
	}
	for k, v := range map[string]int64{"memory": o.memory.Value(), "memswap": o.memorySwap.Value(), "shmsize": o.shmSize.Value(),
		"cpushares": o.cpuShares, "cpuperiod": o.cpuPeriod, "cpuquota": o.cpuQuota} {
		if v != 0 {
			q.Set(k, strconv.FormatInt(v, 10))
		}
	}
	for k, v := range map[string]string{"cpusetcpus": o.cpusetCpus, "cpusetmems": o.cpusetMems, "cgroupparent": o.cgroupParent, "isolation": o.isolation} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if u := o.ulimits.Values(); len(u) > 0 {
		raw, _ := json.Marshal(u)
		q.Set("ulimits", string(raw))
	}
	body, dockerfile, err := buildContext(c, src, o.file)
	if err != nil {
		return err
	}
	if o.compress && body != nil {
		body = gzipStream(body)
	}
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		q.Set("remote", src)
	}
	if dockerfile != "" {
		q.Set("dockerfile", dockerfile)
	}
	stream, err := c.Client().ImageBuildQuery(ctx, body, q)
	if err != nil {
		return err
	}
	defer stream.Close()
	var id string
	aux := func(raw json.RawMessage) {
		var r struct{ ID string }
		if json.Unmarshal(raw, &r) == nil && r.ID != "" {
			id = r.ID
		}
	}
	mode := o.mode
	if mode == "auto" {
		mode = map[bool]string{true: "tty", false: "plain"}[c.Out().IsTerminal()]
	}
	switch {
	case o.quiet:
		err = progress.Display(stream, io.Discard, false, 0, aux)
	case mode == "tty":
		err = displaySteps(stream, c.Out(), aux)
	case mode == "plain":
		err = progress.Display(stream, c.Out(), false, 0, aux)
	default:
		return fmt.Errorf("invalid progress mode %q: use auto, plain or tty", o.mode)
	}
	if err != nil {
		return err
	}
	if o.quiet {
		fmt.Fprintln(c.Out(), id)
	}
	if o.iidfile != "" {
		return os.WriteFile(o.iidfile, []byte(id), 0o644)
	}
	return nil
}

// buildContext returns the request body for src: a tar of the directory (without what
// .dockerignore excludes), stdin (a tar or a lone Dockerfile), or nothing for a URL; and the
// Dockerfile name to ask for inside it.
func buildContext(c *cli.Cli, src, file string) (io.Reader, string, error) {
	switch {
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		return nil, file, nil
	case src == "-":
		br := bufio.NewReader(c.In())
		head, _ := br.Peek(512)
		if len(head) >= 262 && string(head[257:262]) == "ustar" || len(head) > 2 && head[0] == 0x1f && head[1] == 0x8b {
			return br, file, nil
		}
		df, err := io.ReadAll(br)
		if err != nil {
			return nil, "", err
		}
		return tarOf(func(tw *tar.Writer) error { return addBytes(tw, "Dockerfile", df) }), "Dockerfile", nil
	}
	st, err := os.Stat(src)
	if err != nil {
		return nil, "", fmt.Errorf("unable to prepare context: %w", err)
	}
	if !st.IsDir() {
		return nil, "", fmt.Errorf("unable to prepare context: path %q is not a directory", src)
	}
	if file == "" {
		file = filepath.Join(src, "Dockerfile")
	} else if !filepath.IsAbs(file) && !strings.HasPrefix(file, "-") {
		if _, err := os.Stat(file); err != nil {
			file = filepath.Join(src, file)
		}
	}
	var dfRaw []byte
	if file == "-" {
		if dfRaw, err = io.ReadAll(c.In()); err != nil {
			return nil, "", err
		}
	}
	absCtx, _ := filepath.Abs(src)
	absFile, _ := filepath.Abs(file)
	rel, err := filepath.Rel(absCtx, absFile)
	outside := file == "-" || err != nil || strings.HasPrefix(rel, "..")
	name := filepath.ToSlash(rel)
	if outside {
		if dfRaw == nil {
			if dfRaw, err = os.ReadFile(absFile); err != nil {
				return nil, "", fmt.Errorf("unable to prepare context: %w", err)
			}
		}
		b := make([]byte, 8)
		rand.Read(b)
		name = ".dockerfile." + hex.EncodeToString(b)
	} else if _, err := os.Stat(absFile); err != nil {
		return nil, "", fmt.Errorf("unable to prepare context: unable to evaluate symlinks in Dockerfile path: %w", err)
	}
	pm, err := ignoreRules(absCtx, name)
	if err != nil {
		return nil, "", err
	}
	return tarOf(func(tw *tar.Writer) error {
		if err := writeDir(tw, absCtx, pm, name); err != nil {
			return err
		}
		if outside {
			return addBytes(tw, name, dfRaw)
		}
		return nil
	}), name, nil
}

// ignoreRules reads <Dockerfile>.dockerignore, else .dockerignore.
func ignoreRules(dir, dockerfile string) (*patternmatcher.PatternMatcher, error) {
	for _, n := range []string{dockerfile + ".dockerignore", ".dockerignore"} {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		defer f.Close()
		patterns, err := ignorefile.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("error reading .dockerignore: %w", err)
		}
		return patternmatcher.New(patterns)
	}
	return nil, nil
}

func tarOf(fill func(*tar.Writer) error) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := fill(tw)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

func addBytes(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Now()}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// writeDir adds the context directory, leaving out ignored paths; the Dockerfile and
// .dockerignore always go, as the daemon needs them. Owners are root's, as docker's CLI sends them.
func writeDir(tw *tar.Writer, root string, pm *patternmatcher.PatternMatcher, dockerfile string) error {
	links := tartree.Links{}
	return filepath.Walk(root, func(full string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, full)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if pm != nil && rel != dockerfile && rel != ".dockerignore" && rel != dockerfile+".dockerignore" {
			if m, _ := pm.MatchesOrParentMatches(rel); m {
				if fi.IsDir() && !pm.Exclusions() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		hdr, err := tartree.Header(full, rel, fi, links)
		if err != nil {
			return err
		}
		hdr.Uid, hdr.Gid = 0, 0
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(full)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
}

// displaySteps draws the stream BuildKit-style: "#N [stage i/n] INSTR", the step's output
// prefixed with its number and elapsed time, then "#N CACHED" or "#N DONE 0.1s".
func displaySteps(r io.Reader, out io.Writer, aux func(json.RawMessage)) error {
	dec := json.NewDecoder(r)
	cur, start := 0, time.Now()
	total := time.Now()
	for {
		var m progress.Message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("error reading daemon response: %w", err)
		}
		if m.Error != nil && m.Error.Message != "" || m.ErrorMessage != "" {
			msg := m.ErrorMessage
			if m.Error != nil && m.Error.Message != "" {
				msg = m.Error.Message
			}
			return &progress.StreamError{Message: msg}
		}
		if m.Aux != nil {
			var ev map[string]types.BuildStep
			if json.Unmarshal(*m.Aux, &ev) == nil {
				if s, ok := ev[types.BuildStepAux]; ok {
					cur = stepLine(out, s, &start)
					continue
				}
			}
			aux(*m.Aux)
			continue
		}
		text := m.Stream
		switch {
		case cur == 0 || strings.HasPrefix(text, " ---> ") || strings.HasPrefix(text, "Step ") || strings.HasPrefix(text, "Removing intermediate"):
			continue // the legacy framing, which the step lines replace
		case strings.HasPrefix(text, "Successfully built"):
			fmt.Fprintf(out, "#%d DONE %.1fs (build)\n", cur+1, time.Since(total).Seconds())
			continue
		case strings.HasPrefix(text, "Successfully tagged"):
			fmt.Fprintf(out, "#%d naming to %s", cur+1, strings.TrimPrefix(text, "Successfully tagged "))
			continue
		}
		for _, line := range strings.SplitAfter(text, "\n") {
			if line != "" {
				fmt.Fprintf(out, "#%d %.3f %s", cur, time.Since(start).Seconds(), strings.TrimSuffix(line, "\n")+"\n")
			}
		}
	}
}

func stepLine(out io.Writer, s types.BuildStep, start *time.Time) int {
	stage := ""
	if s.Stage != "" {
		stage = s.Stage + " "
	}
	switch {
	case !s.Done:
		*start = time.Now()
		fmt.Fprintf(out, "#%d [%s%d/%d] %s\n", s.N, stage, s.Index, s.Count, s.Text)
	case s.Error != "":
		fmt.Fprintf(out, "#%d ERROR: %s\n", s.N, firstLine(s.Error))
	case s.Cached:
		fmt.Fprintf(out, "#%d CACHED\n", s.N)
	default:
		fmt.Fprintf(out, "#%d DONE %.1fs\n", s.N, float64(s.Millis)/1000)
	}
	return s.N
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// gzipStream compresses r as it is read (build --compress; the daemon detects the gzip).
func gzipStream(r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		_, err := io.Copy(zw, r)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		pw.CloseWithError(err)
	}()
	return pr
}
