package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"flightdeck/config"
	"flightdeck/internal/cli"
	"flightdeck/record"
	"flightdeck/world"
)

// runTimeline is `flightdeck timeline`: the incident from the event journal
// (the flight recorder) and the audit journal (actions, runbook runs), as
// Markdown for a postmortem or as JSON.
func runTimeline(args []string, stdout, stderr io.Writer) error {
	var f flags
	fs := newFlagSet(cli.Timeline.Name, &f)
	fs.BoolVar(&f.demo, "demo", false, "the demo's journals (audit-demo.jsonl, events-demo.jsonl)")
	since := fs.String("since", "", "from this `TIME`: a duration before now (2h, 1.5d) or RFC3339 (2026-03-14T03:00:00Z)")
	until := fs.String("until", "", "up to this `TIME`, same forms as --since")
	format := fs.String("format", "md", "output `FORMAT`: md (Markdown for a postmortem) or json")
	if help, err := parseFlags(cli.Timeline, fs, args, stdout); help || err != nil {
		return err
	}
	if *format != "md" && *format != "json" {
		return &exitError{code: 2, msg: fmt.Sprintf("flightdeck timeline: --format %q: want md or json", *format)}
	}
	now := time.Now()
	from, err := record.ParseTime(*since, now)
	if err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("flightdeck timeline: --since %q: %v", *since, err)}
	}
	to, err := record.ParseTime(*until, now)
	if err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("flightdeck timeline: --until %q: %v", *until, err)}
	}

	// No config file is fine: the journals are then at their default place.
	cfg := config.Default()
	path, err := config.Locate(f.config)
	if err == nil {
		if cfg, err = config.Load(path); err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
	} else if !errors.Is(err, config.ErrNotFound) {
		return &exitError{code: 1, msg: "flightdeck timeline: " + err.Error()}
	}
	auditPath, eventsPath := world.JournalPaths(cfg, f.demo)
	tl, err := record.Build(record.TimelineOptions{EventsPath: eventsPath, AuditPath: auditPath, Since: from, Until: to})
	if err != nil {
		return &exitError{code: 1, msg: "flightdeck timeline: " + err.Error()}
	}
	if *format == "json" {
		err = tl.JSON(stdout)
	} else {
		err = tl.Markdown(stdout)
	}
	if err != nil {
		return err
	}
	for _, d := range tl.Damaged {
		fmt.Fprintln(stderr, "warning: damaged journal line not shown:", d)
	}
	return nil
}
