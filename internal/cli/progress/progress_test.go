package progress

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/jsonstream"
)

func TestDisplayPlain(t *testing.T) {
	in := strings.Join([]string{
		`{"stream":"Loaded image: busybox:latest\n"}`,
		`{"status":"Loading layer","id":"abc","progressDetail":{"current":10,"total":100},"progress":"[=>  ] 10B/100B"}`,
		`{"status":"sha256:1234"}`,
		`{"aux":{"ID":"sha256:5678"}}`,
		`{"status":"Done","id":"abc"}`,
	}, "\n")
	var out bytes.Buffer
	var aux []string
	err := Display(strings.NewReader(in), &out, false, 80, func(m json.RawMessage) { aux = append(aux, string(m)) })
	if err != nil {
		t.Fatal(err)
	}
	want := "Loaded image: busybox:latest\nsha256:1234\nabc: Done\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
	if len(aux) != 1 || aux[0] != `{"ID":"sha256:5678"}` {
		t.Fatalf("aux %v", aux)
	}
}

func TestDisplayError(t *testing.T) {
	for _, in := range []string{
		`{"stream":"x\n"}` + "\n" + `{"errorDetail":{"code":3,"message":"invalid tar"},"error":"invalid tar"}`,
		`{"error":"invalid tar"}`,
	} {
		var out bytes.Buffer
		err := Display(strings.NewReader(in), &out, false, 80, nil)
		var se *StreamError
		if !errors.As(err, &se) || se.Message != "invalid tar" {
			t.Errorf("%s: err %v", in, err)
		}
	}
	if err := Display(strings.NewReader("{not json"), &bytes.Buffer{}, false, 80, nil); err == nil {
		t.Error("garbage must fail")
	}
}

func TestDisplayTerminalRedraw(t *testing.T) {
	in := strings.Join([]string{
		`{"status":"Loading layer","id":"a","progressDetail":{"current":1,"total":2}}`,
		`{"status":"Loading layer","id":"b","progressDetail":{"current":1,"total":4}}`,
		`{"status":"Loading layer","id":"a","progressDetail":{"current":2,"total":2}}`,
	}, "\n")
	var out bytes.Buffer
	if err := Display(strings.NewReader(in), &out, true, 80, nil); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Count(s, "\n") != 2 {
		t.Errorf("two lines expected, one per ID: %q", s)
	}
	if !strings.Contains(s, "\x1b[2A\r\x1b[2Ka: Loading layer [=========================]") {
		t.Errorf("line a must be redrawn two lines up: %q", s)
	}
}

func TestBar(t *testing.T) {
	got := Bar(&jsonstream.Progress{Current: 50, Total: 100}, 200)
	want := "[" + strings.Repeat("=", 25) + ">" + strings.Repeat(" ", 24) + "]      50B/100B"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := Bar(&jsonstream.Progress{Current: 3, Total: 10, Units: "items"}, 80); !strings.HasSuffix(got, "] 3/10 items") {
		t.Errorf("units: %q", got)
	}
	if got := Bar(&jsonstream.Progress{Current: 2048}, 80); got != " 2.048kB" {
		t.Errorf("no total: %q", got)
	}
}
