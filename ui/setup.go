package ui

import (
	"slices"

	"flightdeck/sources"
	"flightdeck/ui/kit"
)

// PaneSetup is what the configuration says about the panes: which have
// no source, with how to give them one, and which to leave out. The zero
// value shows every pane as fed (tests, the demo).
type PaneSetup struct {
	// Unconfigured are the kinds no source provides, each with what turns
	// it on ("add kubernetes: to the config"). Their panes say so instead
	// of waiting forever, and share one short row at the foot of the grid.
	Unconfigured map[sources.Kind]string
	// Hidden are the kinds whose panes are left out (config's hide_panes).
	// The panes shown keep their focus keys: with Alerts hidden, 3 is
	// still Postgres.
	Hidden []sources.Kind
}

// covers reports whether every kind p owns is in the set.
func covers(p Pane, in func(sources.Kind) bool) bool {
	ks := p.Kinds()
	for _, k := range ks {
		if !in(k) {
			return false
		}
	}
	return len(ks) > 0
}

func (ps PaneSetup) hides(p Pane) bool {
	return covers(p, func(k sources.Kind) bool { return slices.Contains(ps.Hidden, k) })
}

func (ps PaneSetup) unconfigured(p Pane) bool {
	return covers(p, func(k sources.Kind) bool { _, ok := ps.Unconfigured[k]; return ok })
}

// addPanes builds every pane in its slot and keeps those not hidden (all
// of them if hiding would leave none), each with the index of its focus
// key and whether it has a source, which panes own each kind and which
// read it besides.
func (m *Model) addPanes(fs []PaneFunc) {
	o := m.o
	var all []Pane
	shown := 0
	for i, f := range fs {
		slot := kit.Slot{Env: m.env}
		if i < len(o.Look.KeyMap.Global.Focus) {
			slot.Key = kit.KeyName(o.Look.KeyMap.Global.Focus[i])
		}
		p := f(slot)
		all = append(all, p)
		if !o.Data.Panes.hides(p) {
			shown++
		}
	}
	for i, p := range all {
		if shown > 0 && o.Data.Panes.hides(p) {
			continue
		}
		for _, k := range p.Kinds() {
			m.owners[k] = append(m.owners[k], len(m.panes))
		}
		if r, ok := p.(Reader); ok {
			for _, k := range r.Reads() {
				m.readers[k] = append(m.readers[k], len(m.panes))
			}
		}
		m.panes = append(m.panes, p)
		m.keyOf = append(m.keyOf, i)
		m.off = append(m.off, o.Data.Panes.unconfigured(p))
	}
}
