package client

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Timestamp turns a --since/--until value into what the API takes, seconds since the epoch with
// nanoseconds ("1700000000.000000000"):
//   - a Go duration ("42m", "1h30m") means that long before now;
//   - a unix time ("1700000000", "1700000000.5") is passed on as it is;
//   - an RFC 3339 date or date-time, complete or cut after the hour or minute, with or without
//     fractional seconds and a zone; without a zone it is read in now's zone.
func Timestamp(value string, now time.Time) (string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", nil
	}
	if value != "0" {
		if d, err := time.ParseDuration(value); err == nil {
			return strconv.FormatInt(now.Add(-d).Unix(), 10), nil
		}
	}
	if isUnixTime(value) {
		return value, nil
	}
	if t, ok := parseDate(value, now.Location()); ok {
		return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()), nil
	}
	return "", fmt.Errorf("failed to parse value as time or duration: %q", value)
}

// isUnixTime reports whether s is seconds[.fraction] with digits only.
func isUnixTime(s string) bool {
	sec, frac, hasFrac := strings.Cut(s, ".")
	if sec == "" || (hasFrac && frac == "") {
		return false
	}
	for _, part := range []string{sec, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}

// dateLayouts are the accepted date forms, without zone; each is also tried followed by a zone.
var dateLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02T15",
	"2006-01-02",
}

func parseDate(s string, loc *time.Location) (time.Time, bool) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout+"Z07:00", s); err == nil {
			return t, true
		}
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
