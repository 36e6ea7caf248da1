package format

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

type row struct{ id, repo string }

func (r *row) ID() string         { return r.id }
func (r *row) Repository() string { return r.repo }
func (r *row) MarshalJSON() ([]byte, error) {
	return MarshalMethods(r)
}

var header = map[string]string{"ID": "IMAGE ID", "Repository": "REPOSITORY"}

func render(t *testing.T, f Format, rows ...any) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, f, header, rows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestTableOutput(t *testing.T) {
	got := render(t, `table {{.ID}}\t{{.Repository}}`,
		&row{"0123456789ab", "busybox"}, &row{"ba9876543210", "a/very/long/repository"})
	want := "IMAGE ID       REPOSITORY\n" +
		"0123456789ab   busybox\n" +
		"ba9876543210   a/very/long/repository\n"
	if got != want {
		t.Fatalf("got:\n%q\nwant:\n%q", got, want)
	}
}

func TestTableMinWidthAndEmpty(t *testing.T) {
	// Columns are at least 10 wide plus 3 of padding; the header prints even without rows.
	got := render(t, "table {{.ID}}\t{{.Repository}}")
	if got != "IMAGE ID   REPOSITORY\n" {
		t.Fatalf("got %q", got)
	}
	got = render(t, "table {{.Repository}}\t{{.ID}}", &row{"x", "a"})
	if got != "REPOSITORY   IMAGE ID\na            x\n" {
		t.Fatalf("got %q", got)
	}
}

func TestHeaderIgnoresHelpers(t *testing.T) {
	got := render(t, `table {{lower .Repository}}\t{{truncate .ID 3}}`, &row{"abcdef", "BusyBox"})
	want := "REPOSITORY   IMAGE ID\nbusybox      abc\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestPlainTemplateAndJSON(t *testing.T) {
	got := render(t, "{{.ID}}: {{.Repository}}", &row{"1", "a"}, &row{"2", "b<c>"})
	if got != "1: a\n2: b<c>\n" {
		t.Fatalf("got %q", got)
	}
	got = render(t, "json", &row{"1", "a"})
	if got != `{"ID":"1","Repository":"a"}`+"\n" {
		t.Fatalf("json got %q", got)
	}
}

func TestFormatTemplate(t *testing.T) {
	cases := map[Format]string{
		"table":                  "",
		"table {{.ID}}\\t{{.X}}": "{{.ID}}\t{{.X}}",
		"json":                   "{{json .}}",
		`{{.A}}\n{{.B}}`:         "{{.A}}\n{{.B}}",
	}
	for in, want := range cases {
		if got := in.Template(); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	if !Format("table").IsBareTable() || Format("table {{.ID}}").IsBareTable() || !Format("table {{.ID}}").IsTable() {
		t.Error("table detection")
	}
}

func TestHelpers(t *testing.T) {
	data := map[string]any{"S": "hello world", "L": []string{"a", "b", "c"}, "M": map[string]string{"k": "<v>"}}
	cases := map[string]string{
		`{{join .L ","}}`:               "a,b,c",
		`{{index (split "a:b" ":") 1}}`: "b",
		`{{upper .S}}`:                  "HELLO WORLD",
		`{{lower "ABC"}}`:               "abc",
		`{{title .S}}`:                  "Hello World",
		`{{truncate .S 5}}`:             "hello",
		`{{truncate .S 50}}`:            "hello world",
		`[{{pad "x" 2 1}}]`:             "[  x ]",
		`{{json .M}}`:                   `{"k":"<v>"}`,
		`{{json .L}}`:                   `["a","b","c"]`,
		`{{println "x"}}`:               "x\n",
	}
	for text, want := range cases {
		var b bytes.Buffer
		if err := ExecuteOne(&b, text, data, nil); err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		if got := strings.TrimSuffix(b.String(), "\n"); got != want && b.String() != want+"\n" {
			t.Errorf("%s: got %q, want %q", text, got, want)
		}
	}
}

func TestParseError(t *testing.T) {
	var b bytes.Buffer
	err := Write(&b, "{{.ID", header, []any{&row{}})
	if err == nil || !strings.HasPrefix(err.Error(), "template parsing error: ") {
		t.Fatalf("err = %v", err)
	}
	err = Write(&b, "{{nosuchfunc .ID}}", header, nil)
	if err == nil || !strings.Contains(err.Error(), `function "nosuchfunc" not defined`) {
		t.Fatalf("err = %v", err)
	}
}

func TestShortIDAndEllipsis(t *testing.T) {
	if got := ShortID("sha256:0123456789abcdef0123"); got != "0123456789ab" {
		t.Errorf("ShortID = %q", got)
	}
	if got := ShortID("<missing>"); got != "<missing>" {
		t.Errorf("ShortID(<missing>) = %q", got)
	}
	long := "/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789 in /"
	got := Ellipsis(long, 45)
	if len([]rune(got)) != 45 || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("Ellipsis = %q", got)
	}
	if Ellipsis("short", 45) != "short" || Ellipsis("héllo", 5) != "héllo" || Ellipsis("héllo", 3) != "hé…" {
		t.Error("Ellipsis keeps short strings and counts runes")
	}
}

func TestHumanUnits(t *testing.T) {
	sizes := map[int64]string{0: "0B", 999: "999B", 4261352: "4.26MB", 1234567890: "1.23GB", 77800000: "77.8MB"}
	for n, want := range sizes {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
	if got := DiskSize(1234567); got != "1.235MB" {
		t.Errorf("DiskSize = %q", got)
	}
	now := time.Now()
	ages := map[time.Duration]string{
		30 * time.Second:         "30 seconds ago",
		70 * time.Minute:         "About an hour ago",
		3 * time.Hour:            "3 hours ago",
		15 * 24 * time.Hour:      "2 weeks ago",
		400 * 24 * time.Hour:     "13 months ago",
		3 * 365 * 24 * time.Hour: "3 years ago",
	}
	for d, want := range ages {
		if got := Ago(now.Add(-d)); got != want {
			t.Errorf("Ago(-%v) = %q, want %q", d, got, want)
		}
	}
	if got := UnixAgo(now.Add(-48 * time.Hour).Unix()); got != "2 days ago" {
		t.Errorf("UnixAgo = %q", got)
	}
}
