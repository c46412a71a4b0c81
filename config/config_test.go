package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/internal/duration"
)

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load(filepath.Join("..", "testdata", "config", "example.yaml"))
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if c.Environment != "production" || !c.IsProduction() {
		t.Errorf("environment = %q", c.Environment)
	}
	if len(c.SLOs) != 2 || c.SLOs[0].Objective != 0.999 || c.SLOs[0].Window.D() != 30*24*time.Hour {
		t.Errorf("slos = %+v", c.SLOs)
	}
	if c.Postgres[0].Interval.D() != 2*time.Second || c.Policy.MaxTargets != 5 {
		t.Errorf("postgres/policy = %+v %+v", c.Postgres, c.Policy)
	}
	if got := c.Line("policy.max_targets"); got == 0 {
		t.Errorf("no line recorded for policy.max_targets")
	}
	if strings.HasPrefix(c.Audit.Path, "~") {
		t.Errorf("audit path not expanded: %s", c.Audit.Path)
	}
}

func TestUnknownKeyNamesKeyAndLine(t *testing.T) {
	src := "environment: staging\npolicy:\n  max_target: 3\n"
	_, err := Parse("c.yaml", []byte(src))
	if err == nil {
		t.Fatal("typo accepted")
	}
	want := `c.yaml:3: policy.max_target: unknown key (did you mean "max_targets"?)`
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err.Error(), want)
	}
}

func TestErrorsNameFieldAndLine(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"bad duration", "postgres:\n  - name: main\n    interval: soon\n", `c.yaml:3: postgres[0].interval: invalid duration "soon"`},
		{"wrong type", "policy:\n  max_targets: five\n", "c.yaml:2: policy.max_targets: cannot unmarshal"},
		{"objective", "prometheus: {url: http://p:9090}\nslos:\n  - name: a\n    objective: 99.9\n    window: 30d\n    good: 'x[{{.window}}]'\n    total: 'y[{{.window}}]'\n", "c.yaml:4: slos[0].objective: must be between 0 and 1"},
		{"no placeholder", "prometheus: {url: http://p:9090}\nslos:\n  - name: a\n    objective: 0.99\n    window: 30d\n    good: 'x[5m]'\n    total: 'y[{{.window}}]'\n", "c.yaml:6: slos[0].good: needs a {{.window}} placeholder"},
		{"slos without prometheus", "slos:\n  - name: a\n    objective: 0.9\n    window: 1d\n    good: 'x[{{.window}}]'\n    total: 'y[{{.window}}]'\n", "c.yaml:1: slos: SLOs need a prometheus: section"},
		{"bad url", "prometheus:\n  url: prometheus:9090\n", "c.yaml:2: prometheus.url: must start with http://"},
		{"theme", "theme: neon\n", `c.yaml:1: theme: unknown theme "neon"`},
		{"duplicate db", "postgres:\n  - name: a\n  - name: a\n", `c.yaml:3: postgres[1].name: duplicate name "a"`},
		{"syntax", "policy:\n  max_targets: [\n", "c.yaml:2: YAML syntax:"},
		{"scalar for list", "kubernetes:\n  namespaces: production\n", "c.yaml:2: kubernetes.namespaces: expected a list such as [production]"},
		{"not mapping", "- a\n- b\n", "c.yaml:1: the config must be a mapping"},
		{"negative replica ceiling", "policy:\n  scale_max_replicas: -1\n", "c.yaml:2: policy.scale_max_replicas: must be a replica count from 1 to 2147483647"},
		{"replica ceiling past int32", "policy:\n  scale_max_replicas: 3000000000\n", "c.yaml:2: policy.scale_max_replicas: must be a replica count"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got  %q\nwant containing %q", err.Error(), tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("c.yaml", []byte("postgres:\n  - dsn: ''\nprometheus: {url: 'http://localhost:9090'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Environment != DefaultEnvironment || c.Theme != "dark" || c.Postgres[0].Name != "main" ||
		c.Prometheus.Interval.D() != DefaultPromInterval || c.Policy.SilenceMax.D() != DefaultSilenceMax {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.IsProduction() {
		t.Error("default environment treated as production")
	}
}

func TestEffectiveYAMLMasksSecrets(t *testing.T) {
	src := `postgres:
  - name: main
    dsn: postgres://fd:hunter2@db/app
prometheus:
  url: http://p:9090
  bearer_token: tok-hunter2
alertmanager:
  url: http://a:9093
  basic_auth: {username: u, password: hunter2}
`
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.EffectiveYAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "hunter2") {
		t.Fatalf("secret in output:\n%s", out)
	}
	if !strings.Contains(string(out), "fd:"+Mask+"@db") || !strings.Contains(string(out), "interval: 15s") {
		t.Errorf("unexpected output:\n%s", out)
	}
	// The original is untouched: masking is for output only.
	if c.Postgres[0].DSN != "postgres://fd:hunter2@db/app" || c.Prometheus.BearerToken != "tok-hunter2" {
		t.Error("Masked modified the original")
	}
	// The printed config loads again (round trip).
	if _, err := Parse("printed.yaml", out); err != nil {
		t.Errorf("printed config does not load: %v", err)
	}
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("FLIGHTDECK_CONFIG", "")
	if _, err := Locate(""); !errors.Is(err, ErrNotFound) {
		t.Errorf("want ErrNotFound, got %v", err)
	}
	p := filepath.Join(dir, "flightdeck", "config.yaml")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("environment: x\n"), 0o644)
	if got, _ := Locate(""); got != p {
		t.Errorf("xdg: got %q", got)
	}
	t.Setenv("FLIGHTDECK_CONFIG", "/env.yaml")
	if got, _ := Locate(""); got != "/env.yaml" {
		t.Errorf("env: got %q", got)
	}
	if got, _ := Locate("/flag.yaml"); got != "/flag.yaml" {
		t.Errorf("flag: got %q", got)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 720 * time.Hour, "1d12h": 36 * time.Hour, "500ms": 500 * time.Millisecond, "4h": 4 * time.Hour} {
		got, err := duration.Parse(in)
		if err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
		if back, _ := duration.Parse(duration.Format(got)); back != got {
			t.Errorf("round trip %s → %s", in, duration.Format(got))
		}
	}
	for _, bad := range []string{"", "d", "-1d", "3 days", "1x"} {
		if _, err := duration.Parse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The replica ceiling is read as given; unset stays 0 (ops's default).
func TestScaleMaxReplicas(t *testing.T) {
	c, err := Parse("c.yaml", []byte("policy:\n  scale_max_replicas: 50\n"))
	if err != nil || c.Policy.ScaleMaxReplicas != 50 {
		t.Fatalf("scale_max_replicas: 50 → %v, %v", c.Policy.ScaleMaxReplicas, err)
	}
	if c, err := Parse("c.yaml", []byte("theme: dark\n")); err != nil || c.Policy.ScaleMaxReplicas != 0 {
		t.Fatalf("unset → %v, %v", c.Policy.ScaleMaxReplicas, err)
	}
}
