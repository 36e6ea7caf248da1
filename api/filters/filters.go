// Package filters encodes and decodes the `filters` query parameter of the Engine API: a JSON object
// mapping each filter name to a set of values. Old clients send lists instead of sets; both are accepted.
package filters

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Args is a set of filter values per filter name.
type Args map[string]map[string]bool

// Parse decodes the query value; an empty string yields no filters.
func Parse(s string) (Args, error) {
	args := Args{}
	if s == "" {
		return args, nil
	}
	if err := json.Unmarshal([]byte(s), &args); err == nil {
		return args, nil
	}
	var lists map[string][]string
	if err := json.Unmarshal([]byte(s), &lists); err != nil {
		return nil, fmt.Errorf("invalid filters %q: %w", s, err)
	}
	for k, vs := range lists {
		for _, v := range vs {
			args.Add(k, v)
		}
	}
	return args, nil
}

// FromFlags builds Args from `name=value` strings as given to the CLI's --filter flag.
func FromFlags(flags []string) (Args, error) {
	args := Args{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("bad format of filter (expected name=value): %s", f)
		}
		args.Add(strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v))
	}
	return args, nil
}

// Add adds value to filter name.
func (a Args) Add(name, value string) {
	if a[name] == nil {
		a[name] = map[string]bool{}
	}
	a[name][value] = true
}

// Get returns the values of filter name, sorted.
func (a Args) Get(name string) []string {
	out := make([]string, 0, len(a[name]))
	for v := range a[name] {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Has reports whether filter name was given.
func (a Args) Has(name string) bool { return len(a[name]) > 0 }

// Validate refuses filter names outside allowed.
func (a Args) Validate(allowed ...string) error {
	for k := range a {
		ok := false
		for _, n := range allowed {
			if k == n {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("invalid filter '%s'", k)
		}
	}
	return nil
}

// Encode returns the JSON form for the query string ("" when empty).
func (a Args) Encode() string {
	if len(a) == 0 {
		return ""
	}
	raw, _ := json.Marshal(map[string]map[string]bool(a))
	return string(raw)
}

// MatchLabels reports whether labels satisfy every `label` (key or key=value) filter under name,
// and `name!` filters negate.
func (a Args) MatchLabels(name string, labels map[string]string) bool {
	for _, f := range a.Get(name) {
		k, v, hasValue := strings.Cut(f, "=")
		got, ok := labels[k]
		if !ok || (hasValue && got != v) {
			return false
		}
	}
	for _, f := range a.Get(name + "!") {
		k, v, hasValue := strings.Cut(f, "=")
		got, ok := labels[k]
		if ok && (!hasValue || got == v) {
			return false
		}
	}
	return true
}
