package main

import (
	"flightdeck/sources"
	"flightdeck/ui/views/logs"
)

// sessionLogs is what a session's log view reads: the log reader of the
// source a pane or runbook names, found among the world's capabilities
// (the kube source, the demo world), so a source that reads logs needs no
// wiring of its own.
func (w *World) sessionLogs() logs.Options {
	return logs.Options{Readers: func(name string) sources.LogReader {
		r, _ := w.caps[name].(sources.LogReader)
		return r
	}}
}
