// Package bytesize prints byte counts in binary units, the one way: long
// ("1.5 MiB") where a person reads a sentence (a plan's preview), compact
// ("1.5M") where a table column has a few cells to spare.
package bytesize

import "strconv"

// scale is n in the largest binary unit (B, K, M, G, T, P) that keeps it
// under 1024.
func scale(n int64) (float64, byte) {
	f, u := float64(n), 0
	for f >= 1024 && u < 5 {
		f /= 1024
		u++
	}
	return f, "BKMGTP"[u]
}

// Format is n as "512 B", "1.5 MiB", "14.2 GiB".
func Format(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, u := scale(n)
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + string(u) + "iB"
}

// Compact is n as "512B", "1.5M", "420M", for a narrow column: one decimal
// below 100 of a unit, none above.
func Compact(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + "B"
	}
	f, u := scale(n)
	digits := 1
	if f >= 100 {
		digits = 0
	}
	return strconv.FormatFloat(f, 'f', digits, 64) + string(u)
}
