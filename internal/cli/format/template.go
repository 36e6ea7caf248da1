// Package format renders CLI output the way docker does: --format Go templates with docker's
// helper functions, the "table" directive (header row plus tab-aligned columns), and "json".
package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"unicode"
)

// Funcs are the helper functions every --format template may call, beside text/template's
// builtins (println, printf, index, len, ...).
func Funcs() template.FuncMap {
	return template.FuncMap{
		"json":     jsonString,
		"join":     strings.Join,
		"split":    strings.Split,
		"lower":    strings.ToLower,
		"upper":    strings.ToUpper,
		"title":    titleCase,
		"truncate": truncate,
		"pad":      pad,
	}
}

// headerFuncs replace Funcs while the header row of a table is rendered: there every field is
// already its column title, which the helpers must leave alone.
func headerFuncs() template.FuncMap {
	same := func(v any, _ ...any) string { return fmt.Sprint(v) }
	return template.FuncMap{
		"json":     same,
		"join":     same,
		"split":    same,
		"lower":    same,
		"upper":    same,
		"title":    same,
		"truncate": same,
		"pad":      same,
	}
}

// Parse parses a --format template with the helper functions.
func Parse(text string) (*template.Template, error) {
	t, err := template.New("").Funcs(Funcs()).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("template parsing error: %w", err)
	}
	return t, nil
}

// jsonString encodes v as one line of JSON, without HTML escaping.
func jsonString(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

// titleCase upper-cases the first letter of every word.
func titleCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prev := ' '
	for _, r := range s {
		if unicode.IsSpace(prev) || unicode.IsPunct(prev) && prev != '\'' {
			b.WriteRune(unicode.ToTitle(r))
		} else {
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// truncate keeps the first n bytes of s.
func truncate(s string, n int) string {
	if n < 0 || len(s) <= n {
		return s
	}
	return s[:n]
}

// pad surrounds s with before and after spaces.
func pad(s string, before, after int) string {
	return strings.Repeat(" ", max(before, 0)) + s + strings.Repeat(" ", max(after, 0))
}
