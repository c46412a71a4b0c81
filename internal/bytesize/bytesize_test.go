package bytesize

import "testing"

func TestFormats(t *testing.T) {
	for _, c := range []struct {
		n             int64
		long, compact string
	}{
		{0, "0 B", "0B"},
		{1023, "1023 B", "1023B"},
		{1536, "1.5 KiB", "1.5K"},
		{420 << 20, "420.0 MiB", "420M"},
		{14*(1<<30) + (1 << 29), "14.5 GiB", "14.5G"},
	} {
		if got := Format(c.n); got != c.long {
			t.Errorf("Format(%d) = %q, want %q", c.n, got, c.long)
		}
		if got := Compact(c.n); got != c.compact {
			t.Errorf("Compact(%d) = %q, want %q", c.n, got, c.compact)
		}
	}
}
