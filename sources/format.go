package sources

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatBurn renders a burn rate compactly: "14.4x", "0.3x", "1.2kx", "-" when unknown.
func FormatBurn(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "kx"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64) + "x"
	default:
		return strconv.FormatFloat(v, 'f', 1, 64) + "x"
	}
}

// ParseDuration parses Go duration syntax extended with a day unit (30d,
// 1d12h), the one duration syntax of config, filters, forms and runbooks.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil || n < 0 || math.IsInf(n, 0) || n > 36500 {
			return 0, fmt.Errorf("invalid duration %q (use e.g. 30s, 15m, 4h, 30d)", s)
		}
		days = time.Duration(n * float64(24*time.Hour))
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 30s, 15m, 4h, 30d)", s)
	}
	return days + d, nil
}

// FormatDuration prints a duration as people write it: 30d, 1d, 4h, 1h30m,
// 45s — a day unit for whole days and without Go's trailing zero units
// (1h0m0s).
func FormatDuration(d time.Duration) string {
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
