package sources

import "time"

// Script marks data from a scripted world (the demo, sources/demo), which
// starts its incident over by itself: which run of the script the data
// shows. Whoever reads the payload can then tell a change the script made
// on restarting (a revision back to 41, a silence gone, a blocker cleared)
// from one a person caused, and say so: the recorder writes the restart
// with actor "demo", the cockpit says it in the status bar.
type Script struct {
	// Loop counts the script's runs: 1 for the first, 2 after the first
	// restart.
	Loop uint64
	// Since is when this run began.
	Since time.Time
	// Reset says, for people, what a restart undid and what it kept.
	Reset string
}

// Scripted is embedded in every payload type; Script is nil except in the
// demo's payloads.
type Scripted struct {
	Script *Script
}

// ScriptRun is the run of a scripted world the payload comes from, nil
// for a real backend.
func (s Scripted) ScriptRun() *Script { return s.Script }

// ScriptOf is the run of a scripted world p comes from, nil for a real
// backend's payload (or no payload).
func ScriptOf(p Payload) *Script {
	if s, ok := p.(interface{ ScriptRun() *Script }); ok {
		return s.ScriptRun()
	}
	return nil
}
