package compose

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
)

// AttachOptions drive the attached (foreground) part of up.
type AttachOptions struct {
	Color        bool
	NoPrefix     bool
	AbortOnExit  bool // --abort-on-container-exit: the first exit stops everything
	ExitCodeFrom string
	Timeout      *int
}

// Attach follows the output of the services' containers until they have all exited or ctx is
// cancelled (Ctrl-C), and then stops them all. It returns the exit code up should exit with:
// that of the first container to exit under AbortOnExit (or of ExitCodeFrom's), else 0.
func (e *Engine) Attach(ctx context.Context, p *types.Project, services []string, out io.Writer, o AttachOptions) (int, error) {
	list, err := e.Containers(ctx, p.Name, true, OneoffExclude, services...)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "Attaching to %s\n", joinNames(list))
	printer := NewPrinter(out, names(list), o.Color, o.NoPrefix)
	logCtx, stopLogs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLogs()

	type exit struct {
		c    container.Summary
		code int
	}
	exits := make(chan exit, len(list))
	logsDone := map[string]chan struct{}{}
	for _, c := range list {
		done := make(chan struct{})
		logsDone[c.ID] = done
		go func() {
			defer close(done)
			_ = e.streamLogs(logCtx, c, printer, LogOptions{Follow: true})
		}()
		go func() {
			waitC, errC := e.API.ContainerWait(logCtx, c.ID, container.WaitConditionNotRunning)
			select {
			case r := <-waitC:
				exits <- exit{c, int(r.StatusCode)}
			case <-errC:
				exits <- exit{c, -1}
			}
		}()
	}
	code := 0
	stopAll := func() error {
		fmt.Fprintln(out, "Gracefully stopping... (press Ctrl+C again to force)")
		return e.Stop(context.WithoutCancel(ctx), p, services, o.Timeout)
	}
	for remaining := len(list); remaining > 0; remaining-- {
		select {
		case <-ctx.Done():
			return 130, stopAll()
		case x := <-exits:
			select { // its last lines first
			case <-logsDone[x.c.ID]:
			case <-time.After(2 * time.Second):
			}
			printer.Line(Name(x.c), fmt.Appendf(nil, "exited with code %d\n", x.code))
			if o.ExitCodeFrom == "" || o.ExitCodeFrom == x.c.Labels[LabelService] {
				if o.ExitCodeFrom != "" || o.AbortOnExit {
					code = x.code
				}
			}
			if o.AbortOnExit {
				fmt.Fprintln(out, "Aborting on container exit...")
				return code, stopAll()
			}
		}
	}
	return code, nil
}

func joinNames(list []container.Summary) string {
	s := ""
	for i, c := range list {
		if i > 0 {
			s += ", "
		}
		s += Name(c)
	}
	return s
}
