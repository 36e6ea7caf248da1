package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAppendLogEntryDecodes(t *testing.T) {
	ts := time.Date(2026, 3, 4, 5, 6, 7, 800, time.UTC)
	for _, s := range []string{
		"", "plain\n", "tab\tcr\r\n", `quote " backslash \ slash /`, "<script>&amp;</script>",
		"\x00\x01\x1f\x7f", "héllo wörld ✓ 🚀", "line\u2028sep\u2029para", strings.Repeat("z", 20000),
	} {
		b := AppendLogEntry(nil, []byte(s[:len(s)/2]), []byte(s[len(s)/2:]), "stderr", ts)
		if b[len(b)-1] != '\n' {
			t.Fatalf("%q: no trailing newline", b)
		}
		var got struct {
			Log    string    `json:"log"`
			Stream string    `json:"stream"`
			Time   time.Time `json:"time"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		if got.Log != s || got.Stream != "stderr" || !got.Time.Equal(ts) {
			t.Errorf("round trip of %q: %+v", s, got)
		}
		// Same bytes as encoding/json for the message (which also escapes HTML).
		want, _ := json.Marshal(s)
		if !strings.Contains(string(b), `"log":`+string(want)+`,`) {
			t.Errorf("escaping of %q differs from encoding/json:\n%s\n%s", s, b, want)
		}
	}
}

func TestAppendLogEntryInvalidUTF8(t *testing.T) {
	b := AppendLogEntry(nil, []byte("a\xffb\xc3"), nil, "stdout", time.Unix(0, 0))
	var got struct{ Log string }
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Log != "a\ufffdb\ufffd" || !utf8.ValidString(got.Log) {
		t.Fatalf("got %q", got.Log)
	}
}

func TestAppendExit(t *testing.T) {
	ts := time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC)
	var got struct {
		ExitCode   int       `json:"exit_code"`
		FinishedAt time.Time `json:"finished_at"`
		OOMKilled  bool      `json:"oom_killed"`
	}
	if err := json.Unmarshal(AppendExit(nil, 137, ts, true), &got); err != nil {
		t.Fatal(err)
	}
	if got.ExitCode != 137 || !got.FinishedAt.Equal(ts) || !got.OOMKilled {
		t.Fatalf("%+v", got)
	}
}

func TestParseObject(t *testing.T) {
	f, err := ParseObject([]byte(` { "op" : "resize", "width":120,"height": 40 ,"nested":{"a":[1,{"b":"}"}]},"list":[1,2],` +
		`"esc":"a\"b\\c\n\u00e9\ud83d\ude80","t":true,"f":false,"n":null} `))
	if err != nil {
		t.Fatal(err)
	}
	if f.Str("op") != "resize" || f.Int("width") != 120 || f.Int("height") != 40 || !f.Bool("t") || f.Bool("f") {
		t.Fatalf("%v", f)
	}
	if f.Str("esc") != "a\"b\\c\né🚀" {
		t.Fatalf("esc = %q", f.Str("esc"))
	}
	if _, ok := f["nested"]; ok {
		t.Fatal("nested object kept")
	}
	if f.Str("n") != "null" || f.Int("missing") != 0 {
		t.Fatalf("%v", f)
	}
	if f, err := ParseObject([]byte(`{}`)); err != nil || len(f) != 0 {
		t.Fatalf("{}: %v %v", f, err)
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":"x}`, `{"a":"\q"}`, `{"a":1 "b":2}`, `{"a":{"b":1}`} {
		if _, err := ParseObject([]byte(bad)); err == nil {
			t.Errorf("ParseObject(%q) succeeded", bad)
		}
	}
}

func TestFrameHeader(t *testing.T) {
	h := make([]byte, 8)
	PutFrameHeader(h, Stderr, 0x01020304)
	if string(h) != "\x02\x00\x00\x00\x01\x02\x03\x04" {
		t.Fatalf("%q", h)
	}
}
