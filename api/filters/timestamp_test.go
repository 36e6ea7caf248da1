package filters

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Time{
		"":                     {},
		"24h":                  now.Add(-24 * time.Hour),
		"2025-12-01T00:00:00Z": time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC),
		"2025-12-01":           time.Date(2025, 12, 1, 0, 0, 0, 0, time.Local),
		"1700000000":           time.Unix(1700000000, 0),
		"1700000000.5":         time.Unix(1700000000, 500000000),
	}
	for in, want := range cases {
		got, err := ParseTimestamp(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: got %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "1700000000.x"} {
		if _, err := ParseTimestamp(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
