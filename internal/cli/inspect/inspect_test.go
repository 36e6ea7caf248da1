package inspect

import (
	"bytes"
	"errors"
	"testing"

	"github.com/berth-project/berth/internal/cli"
)

type obj struct {
	Name string
	N    int64
}

func TestPrint(t *testing.T) {
	get := func(ref string) (any, []byte, error) {
		switch ref {
		case "raw":
			return obj{Name: "raw", N: 1}, []byte(`{"Name":"raw","N":1,"Extra":12345678901}`), nil
		case "typed":
			return obj{Name: "typed", N: 2}, nil, nil
		}
		return nil, nil, errors.New("Error: No such object: " + ref)
	}
	var out bytes.Buffer
	if err := Print(&out, []string{"raw", "typed"}, "", get); err != nil {
		t.Fatal(err)
	}
	want := "[\n    {\n        \"Name\": \"raw\",\n        \"N\": 1,\n        \"Extra\": 12345678901\n    },\n    {\n        \"Name\": \"typed\",\n        \"N\": 2\n    }\n]\n"
	if out.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out.String(), want)
	}

	out.Reset()
	if err := Print(&out, []string{"raw", "typed"}, "{{.Name}}/{{.N}}", get); err != nil {
		t.Fatal(err)
	}
	if out.String() != "raw/1\ntyped/2\n" {
		t.Fatalf("template got %q", out.String())
	}

	out.Reset()
	if err := Print(&out, []string{"raw"}, "{{.Extra}}", get); err != nil || out.String() != "12345678901\n" {
		t.Fatalf("raw fallback got %q, %v", out.String(), err)
	}

	out.Reset()
	err := Print(&out, []string{"x", "raw", "y"}, "json", get)
	var se cli.StatusError
	if !errors.As(err, &se) || se.StatusCode != 1 || se.Status != "Error: No such object: x\nError: No such object: y" {
		t.Fatalf("errors: %#v", err)
	}
	if out.Len() == 0 || out.String()[0] != '[' {
		t.Fatalf("found objects still print: %q", out.String())
	}

	out.Reset()
	_ = Print(&out, []string{"x"}, "", get)
	if out.String() != "[]\n" {
		t.Fatalf("nothing found prints [] : %q", out.String())
	}
	out.Reset()
	_ = Print(&out, []string{"x"}, "{{.Name}}", get)
	if out.String() != "\n" {
		t.Fatalf("nothing found with template prints a newline: %q", out.String())
	}
}
