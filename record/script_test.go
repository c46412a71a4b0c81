package record

import (
	"strconv"
	"strings"
	"testing"

	"flightdeck/sources"
)

// scripted marks a snapshot's payload as run loop of the demo, begun at
// second since.
func scripted(s sources.Snapshot, loop uint64, since int) sources.Snapshot {
	sc := sources.Scripted{Script: &sources.Script{Loop: loop, Since: at(since), Reset: "actions undone"}}
	switch d := s.Data.(type) {
	case *sources.RolloutSet:
		d.Scripted = sc
	case *sources.PGActivity:
		d.Scripted = sc
	case *sources.AlertSet:
		d.Scripted = sc
	}
	return s
}

// A scripted world's restart is one event, first, with actor demo; the
// changes each source shows in its first data of the new run carry actor
// demo too, whenever that source is polled; changes within a run do not.
func TestDetectScriptRestart(t *testing.T) {
	var st State
	step := func(snaps ...sources.Snapshot) []Event {
		next := Advance(st, snaps, Thresholds{})
		evs := Detect(st, next)
		st = next
		return evs
	}
	step(scripted(deploys(0, dep(41, sources.RolloutComplete, 0)), 1, 0),
		scripted(pg(0, 30, nil), 1, 0))
	evs := step(scripted(deploys(300, dep(43, sources.RolloutComplete, 300)), 1, 0),
		scripted(pg(300, 90, map[int32]int{4711: 100}), 1, 0))
	for _, e := range evs {
		if e.Actor != "" {
			t.Errorf("a change within a run attributed to %q: %s", e.Actor, e.Summary)
		}
	}
	// The kube source shows the new run first; pg a second later.
	evs = step(scripted(deploys(400, dep(41, sources.RolloutComplete, 399)), 2, 399))
	if len(evs) != 2 || evs[0].Kind != ScriptRestarted || evs[1].Kind != RolloutRevision {
		t.Fatalf("restart seen by kube: %+v", evs)
	}
	r := evs[0]
	if r.Actor != ActorScript || r.Count != 2 || !r.Since.Equal(at(399)) || !r.Time.Equal(at(400)) ||
		r.Summary != "demo incident restarted (loop 2): actions undone" {
		t.Errorf("restart event %+v", r)
	}
	if evs[1].Actor != ActorScript || !strings.Contains(evs[1].Summary, "revision 41 (back from 43)") {
		t.Errorf("revision reset not attributed to the demo: %+v", evs[1])
	}
	evs = step(scripted(pg(401, 30, nil), 2, 399))
	if len(evs) == 0 {
		t.Fatal("pg's reset recorded nothing")
	}
	for _, e := range evs {
		if e.Kind == ScriptRestarted {
			t.Errorf("restart written twice: %+v", e)
		}
		if e.Actor != ActorScript {
			t.Errorf("pg's reset not attributed to the demo: %+v", e)
		}
	}
	// Within the new run, changes are nobody's by default again.
	evs = step(scripted(deploys(430, dep(42, sources.RolloutProgressing, 430)), 2, 399))
	for _, e := range evs {
		if e.Actor != "" {
			t.Errorf("a change within run 2 attributed to %q: %s", e.Actor, e.Summary)
		}
	}
}

// A recorder that starts during a later run saw no restart; a real
// backend never has one.
func TestDetectNoRestartWithoutOne(t *testing.T) {
	var st State
	for i, snaps := range [][]sources.Snapshot{
		{scripted(deploys(0, dep(41, sources.RolloutComplete, 0)), 3, 0)},
		{scripted(deploys(1, dep(42, sources.RolloutProgressing, 1)), 3, 0), deploys(1, dep(7, sources.RolloutComplete, 0))},
	} {
		next := Advance(st, snaps, Thresholds{})
		for _, e := range Detect(st, next) {
			if e.Kind == ScriptRestarted || e.Actor != "" {
				t.Errorf("step %d: %+v", i, e)
			}
		}
		st = next
	}
}

// The timeline names the demo as who did what its restart did.
func TestTimelineAttributesRestart(t *testing.T) {
	evs := []Event{
		{Time: at(0), Kind: RolloutRevision, Source: "kube", Subject: "production/nudgecampaign-api", Summary: "production/nudgecampaign-api revision 43 (back from 42)"},
		{Time: at(400), Kind: ScriptRestarted, Source: ActorScript, Actor: ActorScript, Count: 2, Summary: "demo incident restarted (loop 2): actions undone"},
		{Time: at(400), Kind: RolloutRevision, Source: "kube", Subject: "production/nudgecampaign-api", Actor: ActorScript, Summary: "production/nudgecampaign-api revision 41 (back from 43)"},
	}
	tl := Merge(evs, nil, TimelineOptions{})
	lines := tl.Lines()
	if len(lines) != 4 {
		t.Fatalf("lines %q", lines)
	}
	for i, want := range []string{"(back from 42)", "demo incident restarted (loop 2): actions undone (demo)", "revision 41 (back from 43) (demo)"} {
		if !strings.HasSuffix(lines[i+1], want) {
			t.Errorf("line %d = %q, want it to end %q", i+1, lines[i+1], want)
		}
	}
	var b strings.Builder
	if err := tl.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "revision 41 (back from 43) | demo |") {
		t.Errorf("markdown does not name the demo:\n%s", b.String())
	}
}

// A new revision right after someone's restart names it, so "revision 44
// (was 43)" is not unexplained; one long after, one the demo made and one
// of another deployment do not (issue 17 item 5).
func TestTimelineNamesTheActionBehindARevision(t *testing.T) {
	api := "production/nudgecampaign-api"
	rev := func(s int, n int64, subject, actor string) Event {
		return Event{Time: at(s), Kind: RolloutRevision, Source: "kube", Subject: subject, Actor: actor, Revision: n,
			Summary: subject + " revision " + strconv.Itoa(int(n))}
	}
	records := []AuditRecord{
		{Time: at(100), Phase: "intent", PlanID: "p1", Operator: "alice", Action: "restart", Source: "kube", Targets: []string{api}},
		{Time: at(101), Phase: "outcome", PlanID: "p1", Operator: "alice", Action: "restart", Source: "kube", Targets: []string{api}, Outcome: "ok"},
		{Time: at(200), Phase: "intent", PlanID: "p2", Operator: "bob", Action: "undo", Source: "kube", Targets: []string{api}},
		{Time: at(201), Phase: "outcome", PlanID: "p2", Operator: "bob", Action: "undo", Source: "kube", Targets: []string{api}, Outcome: "failed", Error: "boom"},
	}
	events := []Event{
		rev(103, 44, api, ""),
		rev(104, 9, "production/nudgecampaign-web", ""),
		rev(110, 45, api, ""), // a second revision: the restart made one
		rev(202, 46, api, ""), // after bob's undo, which failed
		rev(400, 47, api, ""),
		rev(105, 41, api, ActorScript),
	}
	tl := Merge(events, records, TimelineOptions{})
	notes := map[int64]string{}
	for _, e := range tl.Entries {
		if e.Event != nil {
			notes[e.Event.Revision] = e.Note
		}
	}
	want := map[int64]string{44: "3 s after restart by alice", 9: "", 45: "", 46: "", 47: "", 41: ""}
	for n, w := range want {
		if notes[n] != w {
			t.Errorf("revision %d note %q, want %q", n, notes[n], w)
		}
	}
}
