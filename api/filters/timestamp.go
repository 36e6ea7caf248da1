package filters

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTimestamp reads the time values docker accepts in since/until parameters and filters: a Go
// duration back from now ("24h"), Unix seconds with an optional fraction ("1700000000.5"), or an
// RFC 3339 date or date-time (local time when it has no zone). An empty value is the zero time.
func ParseTimestamp(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	secs, frac, _ := strings.Cut(v, ".")
	if sec, err := strconv.ParseInt(secs, 10, 64); err == nil {
		var nsec int64
		if frac != "" {
			if nsec, err = strconv.ParseInt((frac + "000000000")[:9], 10, 64); err != nil {
				return time.Time{}, fmt.Errorf("invalid timestamp %q", v)
			}
		}
		return time.Unix(sec, nsec), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid timestamp %q: use RFC 3339, Unix seconds or a duration such as 24h", v)
}
