package kit

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Age is the compact age used for data freshness and alert ages.
func Age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// Dur is the precise duration used for queries and transactions, where
// the difference between 59s and 5m matters.
func Dur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	switch {
	case s < 60:
		return strconv.Itoa(s) + "s"
	case s < 3600:
		return strconv.Itoa(s/60) + "m" + pad2(s%60) + "s"
	case s < 86400:
		return strconv.Itoa(s/3600) + "h" + pad2(s/60%60) + "m"
	}
	return strconv.Itoa(s/86400) + "d" + pad2(s/3600%24) + "h"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// BudgetTime renders an error budget expressed as time ("18d", "5h").
func BudgetTime(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return Age(d)
}

// Pct renders a ratio as a percentage with digits decimals; NaN and ±Inf
// (no data) are "-".
func Pct(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v*100, 'f', digits, 64) + "%"
}

// Sparkline draws vs scaled to its own max, at most w points (the newest).
// NaN points are gaps.
func Sparkline(vs []float64, w int, levels []rune) string {
	if w <= 0 || len(vs) == 0 {
		return ""
	}
	if len(vs) > w {
		vs = vs[len(vs)-w:]
	}
	top := 0.0
	for _, v := range vs {
		if !math.IsNaN(v) && v > top {
			top = v
		}
	}
	var b strings.Builder
	for _, v := range vs {
		if math.IsNaN(v) {
			b.WriteByte(' ')
			continue
		}
		i := 0
		if top > 0 {
			i = int(v / top * float64(len(levels)-1))
		}
		i = min(max(0, i), len(levels)-1)
		b.WriteRune(levels[i])
	}
	return b.String()
}
