package ui

import (
	"strings"
	"testing"

	"flightdeck/sources"
)

// A runbook's view step may open one of the Postgres pane's views (the
// Slow Database Queries runbook opens statements, then activity with a
// filter, then tables); a view the pane does not have is said. The first
// time a view is shown there is no reading of it yet: it says it is
// reading (it panicked on the statements view's rate line before).
func TestShowPaneOpensAView(t *testing.T) {
	e := newEnv(t, true)
	m := e.model(200, 60)
	mm, _ := m.Update(ShowPaneMsg{Kind: sources.KindPostgres, View: "statements", Filter: "campaigns"})
	m = mm.(Model)
	out := plain(m)
	for _, want := range []string{"[statements]", `filter:"campaigns"`, "reading statements…"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	mm, _ = m.Update(ShowPaneMsg{Kind: sources.KindPostgres, View: "activity", Filter: "state:active"})
	m = mm.(Model)
	if out := plain(m); !strings.Contains(out, "state:active") || strings.Contains(out, "[statements]") {
		t.Errorf("back to activity:\n%s", out)
	}
	mm, _ = m.Update(ShowPaneMsg{Kind: sources.KindAlerts, View: "statements"})
	m = mm.(Model)
	if out := plain(m); !strings.Contains(out, "the Alerts pane has no statements view") {
		t.Errorf("a view the pane lacks is not said:\n%s", out)
	}
}
