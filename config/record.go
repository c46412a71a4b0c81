package config

import (
	"time"

	"flightdeck/internal/duration"
)

// Record bounds the flight recorder's event journal on disk: the live file
// is rotated once it reaches MaxSizeMiB, and rotated files are deleted past
// MaxFiles or MaxAge (the timeline reads rotated files too). Zero keeps
// the recorder's default (64 MiB, 8 files, 30d). The audit journal is never
// rotated.
type Record struct {
	MaxSizeMiB int      `yaml:"max_size_mib,omitempty"`
	MaxFiles   int      `yaml:"max_files,omitempty"`
	MaxAge     Duration `yaml:"max_age,omitempty"`
}

// Bounds on record: the journal must hold an incident, and must not fill
// the disk.
const (
	MaxRecordSizeMiB = 4096
	MaxRecordFiles   = 1000
	MinRecordAge     = time.Hour
	MaxRecordAge     = 3650 * 24 * time.Hour
)

func (c *Config) checkRecord() Errors {
	r := c.Record
	if r == nil {
		return nil
	}
	var errs Errors
	if r.MaxSizeMiB < 0 || r.MaxSizeMiB > MaxRecordSizeMiB {
		errs = append(errs, c.errAt("record.max_size_mib", "must be between 1 and %d (MiB), got %d", MaxRecordSizeMiB, r.MaxSizeMiB))
	}
	if r.MaxFiles < 0 || r.MaxFiles > MaxRecordFiles {
		errs = append(errs, c.errAt("record.max_files", "must be between 1 and %d, got %d", MaxRecordFiles, r.MaxFiles))
	}
	if d := r.MaxAge.D(); d != 0 && (d < MinRecordAge || d > MaxRecordAge) {
		errs = append(errs, c.errAt("record.max_age", "must be between %s and %s, got %s", duration.Format(MinRecordAge), duration.Format(MaxRecordAge), duration.Format(d)))
	}
	return errs
}
