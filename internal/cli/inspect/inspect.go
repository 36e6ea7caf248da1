// Package inspect prints objects for the inspect commands: an indented JSON array of the
// daemon's raw replies by default, or one line per object from a --format template.
package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"text/template"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/format"
)

// GetFunc fetches one object by reference: the decoded value and, when available, the raw JSON
// the daemon sent.
type GetFunc func(ref string) (obj any, raw []byte, err error)

// Print inspects every ref and writes the result to out. It carries on past failures and then
// returns them together (exit status 1), each line as the CLI prints errors.
func Print(out io.Writer, refs []string, tmplText string, get GetFunc) error {
	p, err := newPrinter(out, tmplText)
	if err != nil {
		return err
	}
	var failures []string
	for _, ref := range refs {
		obj, raw, err := get(ref)
		if err == nil {
			err = p.add(obj, raw)
		}
		if err != nil {
			failures = append(failures, cli.ErrorText(err))
		}
	}
	if err := p.flush(); err != nil {
		failures = append(failures, err.Error())
	}
	if len(failures) > 0 {
		return cli.StatusError{StatusCode: 1, Status: strings.Join(failures, "\n")}
	}
	return nil
}

type printer struct {
	out  io.Writer
	tmpl *template.Template // nil: indented JSON
	raws [][]byte
	buf  bytes.Buffer
}

func newPrinter(out io.Writer, tmplText string) (*printer, error) {
	p := &printer{out: out}
	if tmplText == "" || tmplText == format.JSONKey {
		return p, nil
	}
	t, err := format.Parse(format.Format(tmplText).Template())
	if err != nil {
		return nil, err
	}
	p.tmpl = t
	return p, nil
}

func (p *printer) add(obj any, raw []byte) error {
	if p.tmpl == nil {
		if raw == nil {
			b, err := json.Marshal(obj)
			if err != nil {
				return err
			}
			raw = b
		}
		p.raws = append(p.raws, raw)
		return nil
	}
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, obj); err != nil {
		// Templates may name members the typed value does not have (newer API fields): retry on
		// the raw JSON, keeping numbers as written.
		if raw == nil {
			return err
		}
		var generic any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if derr := dec.Decode(&generic); derr != nil {
			return err
		}
		b.Reset()
		if rerr := p.tmpl.Execute(&b, generic); rerr != nil {
			return err
		}
	}
	p.buf.Write(b.Bytes())
	p.buf.WriteByte('\n')
	return nil
}

func (p *printer) flush() error {
	if p.tmpl != nil {
		if p.buf.Len() == 0 {
			_, err := io.WriteString(p.out, "\n")
			return err
		}
		_, err := p.buf.WriteTo(p.out)
		return err
	}
	if len(p.raws) == 0 {
		_, err := io.WriteString(p.out, "[]\n")
		return err
	}
	joined := append([]byte("["), bytes.Join(p.raws, []byte(","))...)
	joined = append(joined, ']')
	var indented bytes.Buffer
	if err := json.Indent(&indented, joined, "", "    "); err != nil {
		return errors.Join(errors.New("error formatting inspect output"), err)
	}
	indented.WriteByte('\n')
	_, err := indented.WriteTo(p.out)
	return err
}
