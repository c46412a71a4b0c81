package ui

import (
	"slices"

	"flightdeck/ui/kit"
)

// screen is the root as a feature sees it (kit.Screen) while it handles
// one key or message: it changes the Model being updated in place. Its
// methods are kit.Screen's, documented there.
type screen struct{ m *Model }

func (s screen) Pane() any               { return s.m.panes[s.m.focus] }
func (s screen) Shown() kit.View         { return s.m.shownView() }
func (s screen) Views() []kit.View       { return slices.Clone(s.m.views) }
func (s screen) Dialog() kit.Dialog      { return s.m.topDialog() }
func (s screen) Status(t string, b bool) { s.m.setStatus(t, b) }
func (s screen) PushDialog(d kit.Dialog) { *s.m = s.m.pushDialog(d) }
func (s screen) PopDialog()              { *s.m = s.m.popDialog() }
func (s screen) Push(v kit.View)         { *s.m = s.m.pushView(v) }
func (s screen) Close(id string)         { *s.m = s.m.closeView(id) }
func (s screen) Keep(v kit.View)         { s.m.views = append(slices.Clip(s.m.views), v) }
func (s screen) Size() (int, int)        { return s.m.w, s.m.bodyH() }

func (s screen) Focus(title string) any {
	for i, p := range s.m.panes {
		if p.Title() == title {
			s.m.focus, s.m.viewOn = i, false
			return p
		}
	}
	return nil
}
