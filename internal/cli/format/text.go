package format

import (
	"strings"
	"time"
	"unicode/utf8"

	units "github.com/docker/go-units"
)

// ShortIDLength is how many hex digits a truncated ID keeps.
const ShortIDLength = 12

// ShortID drops an algorithm prefix ("sha256:") and keeps the first 12 characters.
func ShortID(id string) string {
	if _, hex, ok := strings.Cut(id, ":"); ok {
		id = hex
	}
	if len(id) > ShortIDLength {
		id = id[:ShortIDLength]
	}
	return id
}

// Ellipsis shortens s to at most width characters, ending in "…" when cut.
func Ellipsis(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	runes := []rune(s)
	if width == 1 {
		return string(runes[:1])
	}
	return string(runes[:width-1]) + "…"
}

// Ago is a past time in words, e.g. "2 weeks ago".
func Ago(t time.Time) string {
	return units.HumanDuration(time.Now().UTC().Sub(t)) + " ago"
}

// UnixAgo is Ago for seconds since the epoch.
func UnixAgo(sec int64) string { return Ago(time.Unix(sec, 0)) }

// Size is a size in decimal units with three significant digits, e.g. "4.26MB", as image tables print it.
func Size(n int64) string { return units.HumanSizeWithPrecision(float64(n), 3) }

// DiskSize is a size as docker's disk usage and prune reports print it (four significant digits).
func DiskSize(n int64) string { return units.HumanSize(float64(n)) }
