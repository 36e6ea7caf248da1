package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"
	"text/template"
)

const (
	// TableKey starts a format that prints a header row and tab-aligned columns.
	TableKey = "table"
	// JSONKey prints each object as one line of JSON.
	JSONKey = "json"
)

// Format is the value of a --format flag.
type Format string

// IsTable reports whether f uses the table directive.
func (f Format) IsTable() bool { return strings.HasPrefix(string(f), TableKey) }

// IsJSON reports whether f is the json shorthand.
func (f Format) IsJSON() bool { return string(f) == JSONKey }

// IsBareTable reports whether f is "table" with no template of its own, which means "the
// command's default table".
func (f Format) IsBareTable() bool { return strings.TrimSpace(string(f)) == TableKey }

// Template returns the Go template text f stands for: the table directive removed, "json"
// expanded to {{json .}}, and the escapes \t and \n turned into tab and newline.
func (f Format) Template() string {
	s := string(f)
	switch {
	case f.IsJSON():
		return "{{json .}}"
	case f.IsTable():
		s = s[len(TableKey):]
	}
	s = strings.Trim(s, " ")
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(s)
}

// NewTableWriter returns the tabwriter docker's tables use: min width 10, padding 3.
func NewTableWriter(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
}

// Write renders rows through f: each row is the template's data and produces one line. For a
// table format the header row is rendered first by running the same template over header, which
// maps each field name to its column title, and all lines are aligned together.
func Write(out io.Writer, f Format, header map[string]string, rows []any) error {
	tmpl, err := Parse(f.Template())
	if err != nil {
		return err
	}
	var body bytes.Buffer
	for _, row := range rows {
		if err := tmpl.Execute(&body, row); err != nil {
			return err
		}
		body.WriteByte('\n')
	}
	if !f.IsTable() {
		_, err := body.WriteTo(out)
		return err
	}
	tw := NewTableWriter(out)
	headerTmpl, err := template.New("").Funcs(headerFuncs()).Parse(f.Template())
	if err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	if err := headerTmpl.Execute(tw, headerRow(header)); err != nil {
		return err
	}
	if _, err := tw.Write([]byte("\n")); err != nil {
		return err
	}
	if _, err := body.WriteTo(tw); err != nil {
		return err
	}
	return tw.Flush()
}

// headerRow is the data of a table's header row: each field name maps to its column title.
// Fields that take an argument in rows (Label "name") are methods here.
type headerRow map[string]string

// Label is the title of a {{.Label "name"}} column, as docker makes it: the last dot-separated
// part of the label's name, dashes and underscores as spaces, in upper case.
func (h headerRow) Label(name string) string {
	parts := strings.Split(name, ".")
	return strings.ToUpper(strings.NewReplacer("-", " ", "_", " ").Replace(parts[len(parts)-1]))
}

// ExecuteOne renders a single object (version, info): "json" prints it as one JSON line, any
// other text is a template; a newline follows. extra adds command-specific functions.
func ExecuteOne(out io.Writer, text string, data any, extra template.FuncMap) error {
	if Format(text).IsJSON() {
		s, err := jsonString(data)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, s)
		return err
	}
	tmpl := template.New("").Funcs(Funcs())
	if extra != nil {
		tmpl = tmpl.Funcs(extra)
	}
	tmpl, err := tmpl.Parse(Format(text).Template())
	if err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err = buf.WriteTo(out)
	return err
}

// MarshalMethods encodes v as a JSON object with one member per exported method of v that takes
// no arguments and returns one value, as docker does for the rows of --format json. Methods named
// in skip (and MarshalJSON) are left out.
func MarshalMethods(v any, skip ...string) ([]byte, error) {
	val := reflect.ValueOf(v)
	typ := val.Type()
	fields := map[string]any{}
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if m.Name == "MarshalJSON" || contains(skip, m.Name) {
			continue
		}
		// The receiver counts as the first input of a method expression.
		if m.Type.NumIn() != 1 || m.Type.NumOut() != 1 {
			continue
		}
		fields[m.Name] = val.Method(i).Call(nil)[0].Interface()
	}
	return json.Marshal(fields)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
