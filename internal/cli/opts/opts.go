// Package opts holds the flag value types of the CLI (repeatable lists, filters, maps, sizes,
// ulimits, device limits, mounts, networks), shown in help with docker's type names ("list",
// "filter", "map", "bytes", ...), and the validators that check values as they are given.
package opts

import (
	"errors"
	"sort"
	"strings"

	"github.com/berth-project/berth/api/filters"
)

// List is a repeatable string flag (-c a -c b).
type List struct {
	values    []string
	validate  func(string) error
	normalize func(string) (string, error)
}

// NewList returns an empty List; validate (optional) checks each value as it is given.
func NewList(validate func(string) error) *List { return &List{validate: validate} }

// NewNormalizedList returns an empty List whose values pass through normalize as they are given:
// it returns the value to keep, or why the value is refused.
func NewNormalizedList(normalize func(string) (string, error)) *List {
	return &List{normalize: normalize}
}

func (l *List) String() string {
	if len(l.values) == 0 {
		return ""
	}
	return "[" + strings.Join(l.values, " ") + "]"
}

// Set adds one value.
func (l *List) Set(v string) error {
	if l.validate != nil {
		if err := l.validate(v); err != nil {
			return err
		}
	}
	if l.normalize != nil {
		n, err := l.normalize(v)
		if err != nil {
			return err
		}
		v = n
	}
	l.values = append(l.values, v)
	return nil
}

// Len is the number of values given.
func (l *List) Len() int { return len(l.values) }

// Type is the name shown in help.
func (l *List) Type() string { return "list" }

// Values returns the values in the order given.
func (l *List) Values() []string { return append([]string(nil), l.values...) }

// Filter collects --filter name=value flags.
type Filter struct {
	args filters.Args
}

// NewFilter returns an empty Filter.
func NewFilter() *Filter { return &Filter{args: filters.Args{}} }

func (f *Filter) String() string {
	var parts []string
	for _, k := range sortedKeys(f.args) {
		for _, v := range f.args.Get(k) {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// Set adds one name=value filter.
func (f *Filter) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	name = strings.ToLower(strings.TrimSpace(name))
	if !ok || name == "" {
		return errors.New("bad format of filter (expected name=value)")
	}
	f.args.Add(name, strings.TrimSpace(value))
	return nil
}

// Type is the name shown in help.
func (f *Filter) Type() string { return "filter" }

// Args returns a copy of the filters given.
func (f *Filter) Args() filters.Args {
	out := filters.Args{}
	for k, vs := range f.args {
		for v := range vs {
			out.Add(k, v)
		}
	}
	return out
}

func sortedKeys(a filters.Args) []string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
