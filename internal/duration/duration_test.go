package duration

import (
	"testing"
	"time"
)

func TestFormatAndParse(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 4 * time.Hour: "4h", 90 * time.Minute: "1h30m",
		30 * time.Minute: "30m", 45 * time.Second: "45s", 90 * time.Second: "1m30s", 1500 * time.Millisecond: "1.5s",
		24 * time.Hour: "1d", 30 * 24 * time.Hour: "30d"} {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
		if back, err := Parse(want); err != nil || back != d {
			t.Errorf("Parse(%q) = %v, %v; want %v", want, back, err, d)
		}
	}
	for _, bad := range []string{"", "x", "-1d", "1e400d", "d"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
