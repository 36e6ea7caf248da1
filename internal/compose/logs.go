package compose

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/berth-project/berth/client"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
)

// LogOptions are the flags of compose logs.
type LogOptions struct {
	Follow     bool
	Tail       string
	Timestamps bool
	Since      string
	Until      string
	NoPrefix   bool
	Color      bool
}

// Printer writes container output line by line behind a "name  | " prefix, padded to the
// longest name and coloured per container on a terminal, as docker compose does.
type Printer struct {
	mu     sync.Mutex
	out    io.Writer
	width  int
	color  bool
	none   bool
	colors map[string]string
}

// NewPrinter returns a printer for the given container names.
func NewPrinter(out io.Writer, names []string, color, noPrefix bool) *Printer {
	p := &Printer{out: out, color: color, none: noPrefix, colors: map[string]string{}}
	for i, n := range names {
		p.width = max(p.width, len(n))
		p.colors[n] = palette[i%len(palette)]
	}
	return p
}

// palette is docker compose's rotation of ANSI colours.
var palette = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

// Line prints one line of name's output.
func (p *Printer) Line(name string, line []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.none {
		p.out.Write(line)
		return
	}
	prefix := fmt.Sprintf("%-*s | ", p.width, name)
	if p.color {
		c, ok := p.colors[name]
		if !ok {
			c = palette[len(p.colors)%len(palette)]
			p.colors[name] = c
		}
		prefix = "\x1b[" + c + "m" + prefix + "\x1b[0m"
	}
	fmt.Fprintf(p.out, "%s%s", prefix, line)
}

// Writer is an io.Writer that hands complete lines of name's output to the printer.
func (p *Printer) Writer(name string) io.WriteCloser { return &lineWriter{p: p, name: name} }

type lineWriter struct {
	p    *Printer
	name string
	buf  []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		w.p.Line(w.name, w.buf[:i+1])
		w.buf = w.buf[i+1:]
	}
}

// Close prints a last line without newline.
func (w *lineWriter) Close() error {
	if len(w.buf) > 0 {
		w.p.Line(w.name, append(w.buf, '\n'))
		w.buf = nil
	}
	return nil
}

// Logs prints the logs of the services' containers (all when none), interleaved by arrival.
func (e *Engine) Logs(ctx context.Context, p *types.Project, services []string, out io.Writer, o LogOptions) error {
	if _, err := serviceNames(p, services); err != nil {
		return err
	}
	list, err := e.Containers(ctx, p.Name, true, OneoffExclude, services...)
	if err != nil {
		return err
	}
	printer := NewPrinter(out, names(list), o.Color, o.NoPrefix)
	var wg sync.WaitGroup
	errs := make(chan error, len(list))
	for _, c := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.streamLogs(ctx, c, printer, o)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	return nil
}

func names(list []container.Summary) []string {
	var out []string
	for _, c := range list {
		out = append(out, Name(c))
	}
	return out
}

// streamLogs copies one container's log (stdout and stderr) to the printer.
func (e *Engine) streamLogs(ctx context.Context, c container.Summary, printer *Printer, o LogOptions) error {
	r, err := e.API.ContainerLogs(ctx, c.ID, client.LogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: o.Follow, Tail: o.Tail,
		Timestamps: o.Timestamps, Since: o.Since, Until: o.Until,
	})
	if err != nil {
		return err
	}
	defer r.Close()
	w := printer.Writer(Name(c))
	defer w.Close()
	ctr, _, err := e.API.ContainerInspect(ctx, c.ID, false)
	if err == nil && ctr.Config != nil && ctr.Config.Tty {
		_, err = io.Copy(w, r)
		return err
	}
	_, err = client.DemuxStream(w, w, r)
	return err
}
