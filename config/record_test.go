package config

import (
	"strings"
	"testing"
	"time"
)

// record: bounds the event journal; nonsense is refused with file:line.
func TestRecordRetention(t *testing.T) {
	c, err := Parse("c.yaml", []byte("record: {max_size_mib: 16, max_files: 3, max_age: 7d}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Record == nil || c.Record.MaxSizeMiB != 16 || c.Record.MaxFiles != 3 || c.Record.MaxAge.D() != 7*24*time.Hour {
		t.Fatalf("%+v", c.Record)
	}
	_, err = Parse("c.yaml", []byte("theme: dark\nrecord:\n  max_size_mib: 99999\n  max_age: 1s\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:3") || !strings.Contains(err.Error(), "record.max_size_mib") || !strings.Contains(err.Error(), "c.yaml:4") {
		t.Fatalf("want both errors with lines, got %v", err)
	}
}
