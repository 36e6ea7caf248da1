// Package progress renders the newline-delimited JSON message streams the daemon sends for load,
// import, pull, push and build: text lines, per-ID progress lines (rewritten in place on a
// terminal) and the error that ends a failed operation.
package progress

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/jsonstream"
)

// Message is one element of the stream, including the legacy string fields older daemons send.
type Message struct {
	jsonstream.Message
	ProgressMessage string `json:"progress,omitempty"` // preformatted progress bar
	ErrorMessage    string `json:"error,omitempty"`    // legacy form of errorDetail.message
}

// StreamError is a failure the daemon reported inside the stream.
type StreamError struct {
	Code    int
	Message string
}

func (e *StreamError) Error() string { return e.Message }

// Display decodes messages from r and writes them to out until r ends or a message reports an
// error, which is returned. On a terminal, progress lines with an ID are redrawn in place; off a
// terminal they are left out. aux, when not nil, receives each aux payload.
func Display(r io.Reader, out io.Writer, terminal bool, width int, aux func(json.RawMessage)) error {
	d := &display{out: out, terminal: terminal, width: width, rows: map[string]int{}}
	dec := json.NewDecoder(r)
	for {
		var m Message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("error reading daemon response: %w", err)
		}
		if m.Aux != nil {
			if aux != nil {
				aux(*m.Aux)
			}
			continue
		}
		if m.Error != nil && m.Error.Message != "" {
			return &StreamError{Code: m.Error.Code, Message: m.Error.Message}
		}
		if m.ErrorMessage != "" {
			return &StreamError{Message: m.ErrorMessage}
		}
		d.show(m)
	}
}

type display struct {
	out      io.Writer
	terminal bool
	width    int
	rows     map[string]int // ID -> line it was first printed on
	lines    int            // lines printed so far
}

func hasProgress(m Message) bool {
	return m.ProgressMessage != "" || (m.Progress != nil && (m.Progress.Current > 0 || m.Progress.Total > 0))
}

func (d *display) show(m Message) {
	if !d.terminal && hasProgress(m) {
		return
	}
	text := d.text(m)
	if d.terminal && m.ID != "" && m.Stream == "" {
		if row, ok := d.rows[m.ID]; ok {
			up := d.lines - row
			fmt.Fprintf(d.out, "\x1b[%dA\r\x1b[2K%s\x1b[%dB\r", up, text, up)
			return
		}
		d.rows[m.ID] = d.lines
		fmt.Fprintf(d.out, "%s\n", text)
		d.lines++
		return
	}
	if m.Stream != "" {
		fmt.Fprint(d.out, text)
		d.lines += strings.Count(text, "\n")
		return
	}
	fmt.Fprintln(d.out, text)
	d.lines++
}

// text is the line a message stands for, without the trailing newline (streams keep theirs).
func (d *display) text(m Message) string {
	var b strings.Builder
	if m.ID != "" {
		b.WriteString(m.ID)
		b.WriteString(": ")
	}
	switch {
	case m.Stream != "":
		b.WriteString(m.Stream)
	case d.terminal && m.Progress != nil && (m.Progress.Current > 0 || m.Progress.Total > 0):
		b.WriteString(m.Status)
		b.WriteByte(' ')
		b.WriteString(Bar(m.Progress, d.width))
	case m.ProgressMessage != "":
		b.WriteString(m.Status)
		b.WriteByte(' ')
		b.WriteString(m.ProgressMessage)
	default:
		b.WriteString(m.Status)
	}
	return b.String()
}

// Bar renders p as a progress bar with counts, fitted to a terminal width columns wide.
func Bar(p *jsonstream.Progress, width int) string {
	if p == nil {
		return ""
	}
	counts := ""
	if !p.HideCounts {
		if p.Units == "" || p.Units == "bytes" {
			if p.Total > 0 {
				counts = fmt.Sprintf("%8v/%v", units.HumanSize(float64(p.Current)), units.HumanSize(float64(p.Total)))
			} else {
				counts = fmt.Sprintf("%8v", units.HumanSize(float64(p.Current)))
			}
		} else if p.Total > 0 {
			counts = fmt.Sprintf("%d/%d %s", p.Current, p.Total, p.Units)
		} else {
			counts = fmt.Sprintf("%d %s", p.Current, p.Units)
		}
	}
	if p.Total <= 0 {
		return counts
	}
	barWidth := 50
	if width > 0 && width < 110 {
		barWidth = 25
	}
	filled := int(float64(barWidth) * float64(min(p.Current, p.Total)) / float64(p.Total))
	var bar strings.Builder
	bar.WriteByte('[')
	switch {
	case filled >= barWidth:
		bar.WriteString(strings.Repeat("=", barWidth))
	default:
		bar.WriteString(strings.Repeat("=", filled))
		bar.WriteByte('>')
		bar.WriteString(strings.Repeat(" ", barWidth-filled-1))
	}
	bar.WriteByte(']')
	if counts == "" {
		return bar.String()
	}
	return bar.String() + " " + counts
}
