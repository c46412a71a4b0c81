package sources

import (
	"math"
	"strconv"
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
