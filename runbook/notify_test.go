package runbook

import (
	"strings"
	"testing"

	"flightdeck/ops"
)

// A notify step loads as an action of ops.Notify with its sink and
// message, resolves to the request the Executor plans, and is refused at
// load when it lacks what it needs.
func TestNotifyStep(t *testing.T) {
	src := strings.Replace(valid, "  - kind: note\n    title: Tell people\n    text: Post in #incidents\n",
		"  - kind: notify\n    title: \"Post in #incidents\"\n    sink: incidents\n    message: \"mitigated \\e[31m\"\n    text: details\n", 1)
	b, err := Load("ok.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := b.Steps[4]
	if s.Title != "Post in #incidents" {
		t.Errorf("title %q", s.Title)
	}
	if s.Kind != Action || s.Act.Kind != ops.Notify || s.Act.Source != ops.NotifySource ||
		*s.Act.Notification != (ops.Notification{Sink: "incidents", Subject: "mitigated", Text: "details"}) {
		t.Fatalf("step = %+v %+v", s, s.Act.Notification)
	}
	res := resolve(s.Act, nil, nil, ops.DefaultPolicy(), "demo-book", nil)
	if res.req == nil || res.req.Action != ops.Notify || res.req.Subject.(ops.Notification).Sink != "incidents" {
		t.Fatalf("resolved = %+v", res)
	}
	for _, tc := range []struct{ step, want string }{
		{"  - kind: notify\n    title: x\n    message: hi\n", "sink: required"},
		{"  - kind: notify\n    title: x\n    sink: incidents\n", "message: required"},
		{"  - kind: notify\n    title: x\n    sink: 'a b'\n    message: hi\n", "not a sink name"},
		{"  - kind: notify\n    title: x\n    sink: a\n    message: hi\n    command: ls\n", "does not apply to a notify step"},
	} {
		_, err := Load("bad.yaml", []byte(valid+tc.step))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.step, err, tc.want)
		}
	}
}
