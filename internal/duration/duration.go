// Package duration is the one duration syntax of flightdeck: config values,
// command-line flags (--since), filters, forms and runbook fields all parse
// through Parse, so "1.5d" means the same everywhere.
package duration

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxDays bounds the day unit: a century is far beyond any window or
// retention flightdeck deals in, and keeps the result inside time.Duration.
const maxDays = 36500

// Parse parses Go duration syntax extended with a day unit (30d, 1.5d,
// 1d12h). Negative durations are refused: nothing in flightdeck counts
// backwards.
func Parse(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 30s, 15m, 4h, 30d)", orig)
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) || n > maxDays || strings.ContainsAny(s[:i], "eExXpP_") {
			return bad()
		}
		days = time.Duration(n * float64(24*time.Hour))
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
		if s[0] == '-' || s[0] == '+' {
			return bad()
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return bad()
	}
	return days + d, nil
}

// Format prints a duration as people write it: 30d, 1d, 4h, 1h30m, 45s — a
// day unit for whole days and without Go's trailing zero units (1h0m0s).
func Format(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") || strings.HasSuffix(s, "h0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
