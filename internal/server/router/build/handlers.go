package build

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/berth-project/berth/api/types"
	buildsvc "github.com/berth-project/berth/internal/build"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/server"
)

func jsonParam(r *http.Request, name string, v any) error {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return errdefs.InvalidArgumentf("invalid %s: %v", name, err)
	}
	return nil
}

func (rt *Router) build(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	q := r.URL.Query()
	opts := buildsvc.Options{
		Dockerfile:  q.Get("dockerfile"),
		Remote:      q.Get("remote"),
		Tags:        q["t"],
		Target:      q.Get("target"),
		NoCache:     server.BoolValue(r, "nocache"),
		Pull:        server.BoolValue(r, "pull"),
		NetworkMode: q.Get("networkmode"),
		Platform:    q.Get("platform"),
		Remove:      q.Get("rm") == "" || server.BoolValue(r, "rm"),
		ForceRemove: server.BoolValue(r, "forcerm"),
	}
	if err := resourceParams(r, &opts); err != nil {
		return err
	}
	if v := q.Get("version"); v == "2" {
		return errdefs.NotImplementedf("BuildKit builds (version=2) are not supported yet: set DOCKER_BUILDKIT=0")
	}
	var args map[string]*string
	if err := jsonParam(r, "buildargs", &args); err != nil {
		return err
	}
	opts.BuildArgs = map[string]string{}
	for k, v := range args {
		if v != nil {
			opts.BuildArgs[k] = *v
		}
	}
	if err := jsonParam(r, "labels", &opts.Labels); err != nil {
		return err
	}
	if err := jsonParam(r, "cachefrom", &opts.CacheFrom); err != nil {
		return err
	}
	if h := q.Get("extrahosts"); h != "" {
		opts.ExtraHosts = strings.Split(h, ",")
	}
	if opts.Remote != "" && !strings.Contains(opts.Remote, "://") {
		opts.Remote = "" // docker sends the context name for a body upload
	}
	stream := server.NewJSONStream(w)
	_, err := rt.backend.Build(r.Context(), r.Body, opts, reporter{stream, server.BoolValue(r, "q")})
	stream.Finish(err)
	return nil
}

// resourceParams reads the legacy builder's limits for RUN containers, as the docker client
// sends them (zero values mean unset).
func resourceParams(r *http.Request, opts *buildsvc.Options) error {
	q := r.URL.Query()
	res := &opts.Resources
	for name, dst := range map[string]*int64{"memory": &res.Memory, "memswap": &res.MemorySwap, "cpushares": &res.CPUShares,
		"cpuperiod": &res.CPUPeriod, "cpuquota": &res.CPUQuota, "shmsize": &opts.ShmSize} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errdefs.InvalidArgumentf("invalid %s %q: %v", name, v, err)
			}
			*dst = n
		}
	}
	res.CpusetCpus, res.CpusetMems, opts.CgroupParent = q.Get("cpusetcpus"), q.Get("cpusetmems"), q.Get("cgroupparent")
	if err := jsonParam(r, "ulimits", &res.Ulimits); err != nil {
		return err
	}
	if iso := q.Get("isolation"); iso != "" && iso != "default" {
		return errdefs.InvalidArgumentf("unsupported isolation: %q", iso)
	}
	if server.BoolValue(r, "squash") {
		return errdefs.NotImplementedf("squash is not supported: the image keeps one layer per step")
	}
	return nil
}

// reporter sends build output as docker's JSON messages; quiet keeps only the result.
type reporter struct {
	s     *server.JSONStream
	quiet bool
}

func (p reporter) Line(text string) {
	if !p.quiet {
		p.s.Line(text)
	}
}

func (p reporter) Output(b []byte) {
	if !p.quiet {
		p.s.Send(types.JSONMessage{Stream: string(b)})
	}
}

func (p reporter) Step(ev types.BuildStep) {
	if !p.quiet {
		p.s.Aux(map[string]types.BuildStep{types.BuildStepAux: ev})
	}
}

func (p reporter) Aux(v any) { p.s.Aux(v) }

func (rt *Router) prune(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := server.Filters(r, "until", "id", "description", "type", "inuse", "shared", "private", "description~", "unused-for")
	if err != nil {
		return err
	}
	opts := buildsvc.PruneOptions{All: server.BoolValue(r, "all"), Filters: f}
	for _, name := range []string{"reserved-space", "keep-storage"} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errdefs.InvalidArgumentf("invalid %s: %q", name, v)
			}
			opts.KeepStorage = n
		}
	}
	rep, err := rt.backend.Prune(r.Context(), opts)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, rep)
}
