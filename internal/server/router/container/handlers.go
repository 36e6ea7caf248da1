package container

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/api/filters"
	apitypes "github.com/berth-project/berth/api/types"
	containersvc "github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/server"
)

func decode(r *http.Request, v any) error {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return errdefs.InvalidArgumentf("invalid JSON body: %v", err)
	}
	return nil
}

func (rt *Router) create(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	var req container.CreateRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Config == nil {
		req.Config = &container.Config{}
	}
	id, warnings, err := rt.backend.Create(r.Context(), r.URL.Query().Get("name"), req.Config, req.HostConfig, req.NetworkingConfig)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusCreated, container.CreateResponse{ID: id, Warnings: warnings})
}

func (rt *Router) list(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := filters.Parse(r.URL.Query().Get("filters"))
	if err != nil {
		return errdefs.As(errdefs.InvalidArgument, err)
	}
	limit, err := server.IntValue(r, "limit", -1)
	if err != nil {
		return errdefs.As(errdefs.InvalidArgument, err)
	}
	list, err := rt.backend.List(r.Context(), server.BoolValue(r, "all"), limit, f)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, list)
}

func (rt *Router) inspect(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	c, err := rt.backend.Inspect(r.Context(), vars["name"])
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, apitypes.NewContainerInspect(c))
}

func (rt *Router) start(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := rt.backend.Start(r.Context(), vars["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func timeoutParam(r *http.Request) (*int, error) {
	if r.URL.Query().Get("t") == "" {
		return nil, nil
	}
	t, err := server.IntValue(r, "t", 0)
	if err != nil {
		return nil, errdefs.As(errdefs.InvalidArgument, err)
	}
	return &t, nil
}

func (rt *Router) stop(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	if err := rt.backend.Stop(r.Context(), vars["name"], t, r.URL.Query().Get("signal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rt *Router) restart(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	if err := rt.backend.Restart(r.Context(), vars["name"], t, r.URL.Query().Get("signal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rt *Router) kill(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := rt.backend.Kill(r.Context(), vars["name"], r.URL.Query().Get("signal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rt *Router) wait(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	ch, err := rt.backend.Wait(r.Context(), vars["name"], r.URL.Query().Get("condition"))
	if err != nil {
		return err
	}
	// The status goes out at once so the client knows the wait is registered before it starts the container.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	res := <-ch
	resp := container.WaitResponse{StatusCode: int64(res.StatusCode)}
	if res.Err != nil {
		resp.Error = &container.WaitExitError{Message: res.Err.Error()}
	}
	return json.NewEncoder(w).Encode(resp)
}

func (rt *Router) remove(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := rt.backend.Remove(r.Context(), vars["name"], server.BoolValue(r, "force"), server.BoolValue(r, "v")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rt *Router) logs(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	q := r.URL.Query()
	opts := containersvc.LogOptions{
		Follow: server.BoolValue(r, "follow"), Stdout: server.BoolValue(r, "stdout"), Stderr: server.BoolValue(r, "stderr"),
		Timestamps: server.BoolValue(r, "timestamps"), Tail: -1,
	}
	if !opts.Stdout && !opts.Stderr {
		return errdefs.InvalidArgumentf("Bad parameters: you must choose at least one stream")
	}
	if t := q.Get("tail"); t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return errdefs.InvalidArgumentf("invalid tail value %q", t)
		}
		opts.Tail = n
	}
	var err error
	now := time.Now()
	if opts.Since, err = filters.ParseTimestamp(q.Get("since"), now); err != nil {
		return errdefs.As(errdefs.InvalidArgument, err)
	}
	if opts.Until, err = filters.ParseTimestamp(q.Get("until"), now); err != nil {
		return errdefs.As(errdefs.InvalidArgument, err)
	}
	tty, err := rt.backend.IsTTY(vars["name"])
	if err != nil {
		return err
	}
	ct := server.MultiplexedStream
	if tty {
		ct = server.RawStream
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	fw := &flushWriter{w: w}
	fw.flush()
	return rt.backend.Logs(r.Context(), vars["name"], opts, fw)
}

// flushWriter pushes every write to the client so `logs -f` is live.
type flushWriter struct{ w http.ResponseWriter }

func (f *flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	f.flush()
	return n, err
}

func (f *flushWriter) flush() {
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
}

func (rt *Router) attach(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	tty, err := rt.backend.IsTTY(vars["name"])
	if err != nil {
		return err
	}
	opts := containersvc.AttachOptions{
		Stdin: server.BoolValue(r, "stdin"), Stdout: server.BoolValue(r, "stdout"), Stderr: server.BoolValue(r, "stderr"),
		Logs: server.BoolValue(r, "logs"), Stream: server.BoolValue(r, "stream"), DetachKeys: r.URL.Query().Get("detachKeys"),
	}
	var conn *server.HijackedStream
	err = rt.backend.Attach(server.StreamContext(r), vars["name"], opts, func() (io.ReadWriter, error) {
		var herr error
		conn, herr = server.Hijack(w, r, tty)
		return conn, herr
	})
	if conn == nil {
		return err // nothing was sent yet: a plain error reply
	}
	defer conn.Close()
	if err != nil && tty {
		// Only a raw stream can carry text; in a multiplexed one it would break the client's framing.
		conn.Write([]byte("Error attaching: " + err.Error() + "\n"))
	}
	return nil
}

func sizeParams(r *http.Request) (uint, uint, error) {
	h, err := server.IntValue(r, "h", 0)
	if err != nil {
		return 0, 0, errdefs.As(errdefs.InvalidArgument, err)
	}
	wd, err := server.IntValue(r, "w", 0)
	if err != nil {
		return 0, 0, errdefs.As(errdefs.InvalidArgument, err)
	}
	if h < 0 || wd < 0 {
		return 0, 0, errdefs.InvalidArgumentf("terminal size must not be negative")
	}
	return uint(h), uint(wd), nil
}

func (rt *Router) resize(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	h, wd, err := sizeParams(r)
	if err != nil {
		return err
	}
	return rt.backend.Resize(r.Context(), vars["name"], h, wd)
}

func (rt *Router) execCreate(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	var req container.ExecCreateRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := rt.backend.ExecCreate(r.Context(), vars["name"], req)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusCreated, container.ExecCreateResponse{ID: id})
}

func (rt *Router) execStart(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	var req container.ExecStartRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	tty, err := rt.backend.ExecIsTTY(vars["id"])
	if err != nil {
		return err
	}
	if req.Detach {
		if err := rt.backend.ExecStart(r.Context(), vars["id"], nil, true); err != nil {
			return err
		}
		return server.WriteJSON(w, http.StatusOK, struct{}{})
	}
	conn, err := server.Hijack(w, r, tty)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := rt.backend.ExecStart(server.StreamContext(r), vars["id"], conn, false); err != nil {
		conn.Write([]byte(err.Error() + "\n"))
	}
	return nil
}

func (rt *Router) execInspect(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	e, err := rt.backend.ExecInspect(r.Context(), vars["id"])
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, e)
}

func (rt *Router) execResize(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	h, wd, err := sizeParams(r)
	if err != nil {
		return err
	}
	return rt.backend.ExecResize(r.Context(), vars["id"], h, wd)
}

func (rt *Router) top(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	resp, err := rt.backend.Top(r.Context(), vars["name"], r.URL.Query().Get("ps_args"))
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, resp)
}

func (rt *Router) pause(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := rt.backend.Pause(r.Context(), vars["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rt *Router) unpause(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := rt.backend.Unpause(r.Context(), vars["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rt *Router) rename(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if err := rt.backend.Rename(r.Context(), vars["name"], r.URL.Query().Get("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rt *Router) update(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	var u container.UpdateConfig
	if err := decode(r, &u); err != nil {
		return err
	}
	warnings, err := rt.backend.Update(r.Context(), vars["name"], u)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, container.UpdateResponse{Warnings: warnings})
}

func (rt *Router) prune(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	f, err := filters.Parse(r.URL.Query().Get("filters"))
	if err != nil {
		return errdefs.As(errdefs.InvalidArgument, err)
	}
	rep, err := rt.backend.Prune(r.Context(), f)
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, rep)
}

func setPathStat(w http.ResponseWriter, st *container.PathStat) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set("X-Docker-Container-Path-Stat", base64.StdEncoding.EncodeToString(raw))
	return nil
}

func archivePath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", errdefs.InvalidArgumentf("path cannot be empty")
	}
	return p, nil
}

func (rt *Router) archiveStat(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	st, err := rt.backend.StatPath(r.Context(), vars["name"], p)
	if err != nil {
		return err
	}
	if err := setPathStat(w, st); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (rt *Router) archiveGet(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if r.Method == http.MethodHead {
		return rt.archiveStat(w, r, vars)
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	return rt.backend.ArchivePath(r.Context(), vars["name"], p, func(st *container.PathStat) io.Writer {
		setPathStat(w, st)
		w.Header().Set("Content-Type", "application/x-tar")
		w.WriteHeader(http.StatusOK)
		return w
	})
}

func (rt *Router) archivePut(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	if err := rt.backend.ExtractToDir(r.Context(), vars["name"], p, server.BoolValue(r, "noOverwriteDirNonDir"), r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (rt *Router) changes(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	ch, err := rt.backend.Changes(r.Context(), vars["name"])
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusOK, ch)
}

func (rt *Router) export(w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	if _, err := rt.backend.Inspect(r.Context(), vars["name"]); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	started := false
	sw := writerFunc(func(b []byte) (int, error) {
		if !started {
			started = true
			w.WriteHeader(http.StatusOK)
		}
		return w.Write(b)
	})
	err := rt.backend.Export(r.Context(), vars["name"], sw)
	if err != nil && !started {
		w.Header().Del("Content-Type")
		return err
	}
	if !started {
		w.WriteHeader(http.StatusOK)
	}
	return nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (rt *Router) commit(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	q := r.URL.Query()
	var cfg container.Config
	if err := decode(r, &cfg); err != nil {
		return err
	}
	pause := true
	if q.Get("pause") != "" {
		pause = server.BoolValue(r, "pause")
	}
	id, err := rt.backend.Commit(r.Context(), q.Get("container"), containersvc.CommitOptions{
		Repo: q.Get("repo"), Tag: q.Get("tag"), Comment: q.Get("comment"), Author: q.Get("author"),
		Pause: pause, Changes: q["changes"], Config: &cfg,
	})
	if err != nil {
		return err
	}
	return server.WriteJSON(w, http.StatusCreated, container.CommitResponse{ID: id.String()})
}
