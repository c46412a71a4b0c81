package ops

import (
	"errors"
	"testing"

	"flightdeck/sources"
)

type fakeScaler struct{ RolloutController }

// bindOne refuses, the same way for every single-target handler, a plan
// whose targets are not one subject of the handler's kind, and a source
// without the capability.
func TestBindOne(t *testing.T) {
	env := Env{Source: "kube", Caps: Capabilities{"kube": fakeScaler{}, "pg": struct{}{}}}
	d := sources.Deployment{Namespace: "production", Name: "api"}
	one := Plan{Action: Scale, Targets: []Target{{ID: d.Key(), Subject: d}}}
	if _, got, err := bindOne[RolloutController, sources.Deployment](env, one, "act on rollouts", "deployment"); err != nil || got.Name != "api" {
		t.Fatalf("one deployment: %+v %v", got, err)
	}
	two := one
	two.Targets = append(two.Targets, two.Targets[0])
	wrong := Plan{Action: Scale, Targets: []Target{{ID: "svc", Subject: sources.ECSService{Name: "svc"}}}}
	for name, p := range map[string]Plan{"two targets": two, "no target": {Action: Scale}, "another kind": wrong} {
		if _, _, err := bindOne[RolloutController, sources.Deployment](env, p, "act on rollouts", "deployment"); !errors.Is(err, ErrTampered) {
			t.Errorf("%s: %v, want ErrTampered", name, err)
		}
	}
	env.Source = "pg"
	if _, _, err := bindOne[RolloutController, sources.Deployment](env, one, "act on rollouts", "deployment"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("a source that cannot: %v, want ErrUnsupported", err)
	}
}

// rawText keeps identifiers that sanitize alike apart, in printable ASCII.
func TestRawText(t *testing.T) {
	plain := "arn:aws:ecs:us-east-1:1:service/evilcl/svc"
	evil := plain + "\x1b[2K\u202e"
	if rawText(plain) != plain {
		t.Errorf("plain %q", rawText(plain))
	}
	got := rawText(evil)
	if got == rawText(plain) || got != `"arn:aws:ecs:us-east-1:1:service/evilcl/svc\x1b[2K\u202e"` {
		t.Errorf("escaped %q", got)
	}
}
