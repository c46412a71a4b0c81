package config

import (
	"strings"
	"testing"

	"flightdeck/internal/testsrv"
)

// TestTextSanitizedAtLoad: config text that reaches the screen, the window
// title or the journal is sanitized once, when the file is loaded.
func TestTextSanitizedAtLoad(t *testing.T) {
	src := `environment: "prod\e]52;c;QQ==\a\u202euction"
production_environments: ["prod\u009b2Juction"]
operator: "ops\e]0;pwned\a@bastion"
postgres:
  - name: "main\u202e"
    dsn: "host=db"
prometheus: {url: "http://p:9090"}
slos:
  - name: "avail\u009b31m"
    description: "99.9%\e[2J"
    objective: 0.999
    window: 30d
    good: 'x[{{.window}}]'
    total: 'y[{{.window}}]'
policy:
  protected_apps: ["billing\u200b"]
`
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for what, got := range map[string]string{"environment": c.Environment, "operator": c.Operator,
		"postgres name": c.Postgres[0].Name, "slo name": c.SLOs[0].Name, "slo description": c.SLOs[0].Description,
		"production_environments": c.ProductionEnvironments[0], "protected_apps": c.Policy.ProtectedApps[0]} {
		if bad := testsrv.RawControls(got); len(bad) > 0 || strings.ContainsRune(got, 0x200b) {
			t.Errorf("%s = %q", what, got)
		}
	}
	if c.Environment != "production" || !c.IsProduction() || c.Operator != "ops@bastion" || c.Policy.ProtectedApps[0] != "billing" {
		t.Errorf("environment %q (production %v), operator %q, apps %q", c.Environment, c.IsProduction(), c.Operator, c.Policy.ProtectedApps)
	}
	out, err := c.EffectiveYAML()
	if err != nil {
		t.Fatal(err)
	}
	if bad := testsrv.RawControls(string(out)); len(bad) > 0 {
		t.Errorf("effective config echoes %q", bad)
	}
}

// TestEffectiveYAMLNeverEchoesControls: values kept as written (a query, a
// URL path) are still printed without bidi or escape characters.
func TestEffectiveYAMLNeverEchoesControls(t *testing.T) {
	src := "prometheus: {url: \"http://p:9090/\u202eevil\"}\nslos:\n  - name: a\n    objective: 0.99\n    window: 30d\n" +
		"    good: \"x{job=\\\"\u202e\\\"}[{{.window}}]\"\n    total: 'y[{{.window}}]'\n"
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := c.EffectiveYAML()
	if bad := testsrv.RawControls(string(out)); len(bad) > 0 {
		t.Errorf("effective config echoes %q:\n%s", bad, out)
	}
	if !strings.Contains(c.Prometheus.URL, "\u202e") {
		t.Error("a URL was changed at load: it must address what it says")
	}
}

// TestErrorsAreSanitized: a key name from the file goes into the error.
func TestErrorsAreSanitized(t *testing.T) {
	_, err := Parse("c.yaml", []byte(`"env\u202e\u009b2J\e]0;x\a": x`+"\n"))
	if err == nil || len(testsrv.RawControls(err.Error())) > 0 || !strings.HasPrefix(err.Error(), "c.yaml:1: env: unknown key") {
		t.Errorf("err = %q", err)
	}
}

// TestSecretsMasked: each form a secret can take in the file is masked in
// the effective config.
func TestSecretsMasked(t *testing.T) {
	for _, tc := range []struct{ name, src, secret, shown string }{
		{"DSN URL userinfo", "postgres:\n  - dsn: postgres://fd:hunter2@db/app\n", "hunter2", "fd:xxxxx@db"},
		{"DSN URL sslpassword", "postgres:\n  - dsn: postgres://fd@db/app?sslpassword=topsecret&sslmode=require\n", "topsecret", "sslpassword=xxxxx&sslmode=require"},
		{"DSN URL password query", "postgres:\n  - dsn: postgres://fd@db/app?password=topsecret\n", "topsecret", "password=xxxxx"},
		{"key=value password", "postgres:\n  - dsn: host=db user=fd password=hunter2\n", "hunter2", "password=xxxxx"},
		{"key=value sslpassword", "postgres:\n  - dsn: \"host=db sslpassword='k3y pass' sslmode=verify-full\"\n", "k3y pass", "sslpassword=xxxxx sslmode"},
		{"prometheus URL userinfo", "prometheus: {url: 'http://admin:hunter2@prom:9090'}\n", "hunter2", "admin:xxxxx@prom:9090"},
		{"alertmanager URL userinfo", "alertmanager: {url: 'http://admin:hunter2@am:9093'}\n", "hunter2", "admin:xxxxx@am:9093"},
		{"URL token", "alertmanager: {url: 'https://am:9093/?access_token=t0k3n'}\n", "t0k3n", "access_token=xxxxx"},
		{"basic_auth", "prometheus: {url: 'http://p:9090', basic_auth: {username: u, password: hunter2}}\n", "hunter2", "password: xxxxx"},
		{"bearer_token", "alertmanager: {url: 'http://a:9093', bearer_token: tok-hunter2}\n", "tok-hunter2", "bearer_token: xxxxx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.EffectiveYAML()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), tc.secret) || !strings.Contains(string(out), tc.shown) {
				t.Errorf("effective config:\n%s", out)
			}
		})
	}
}

// TestRejectedWithPlace: what used to pass (or fail without a place) fails
// with file:line: field: problem.
func TestRejectedWithPlace(t *testing.T) {
	slo := "prometheus: {url: 'http://p:9090'}\nslos:\n  - name: a\n    objective: 0.99\n    window: 30d\n"
	for _, tc := range []struct{ name, src, want string }{
		{"empty file", "", "c.yaml:1: the file is empty"},
		{"comments only", "# nothing yet\n", "c.yaml:1: the file is empty"},
		{"second document", "environment: a\n---\nenvironment: b\n", "c.yaml:2: a second YAML document"},
		{"binary garbage", "environment: a\ntheme: dark\x00\x9c\xff\n", "c.yaml:2: theme: control character U+0000 at column 12"},
		{"invalid UTF-8", "environment: \"a\xff\"\n", "c.yaml:1: environment: byte 0xff is not UTF-8 at column 16"},
		{"template runs", slo + "    good: 'x[{{.window}}] {{.nope}}'\n    total: 'y[{{.window}}]'\n", `c.yaml:6: slos[0].good: bad template: template: good:1:17: executing "good" at <.nope>: map has no entry for key "nope"`},
		{"prometheus 1ns", "prometheus: {url: 'http://p:9090', interval: 1ns}\n", "c.yaml:1: prometheus.interval: must be at least 1s (got 1ns)"},
		{"alertmanager 10ms", "alertmanager:\n  url: 'http://a:9093'\n  interval: 10ms\n", "c.yaml:3: alertmanager.interval: must be at least 1s (got 10ms)"},
		{"postgres 1ns", "postgres:\n  - dsn: ''\n    interval: 1ns\n", "c.yaml:3: postgres[0].interval: must be at least 100ms (got 1ns)"},
		{"timeout 1ns", "prometheus:\n  url: 'http://p:9090'\n  timeout: 1ns\n", "c.yaml:3: prometheus.timeout: must be between 100ms and 5m, got 1ns"},
		{"timeout 1h", "alertmanager:\n  url: 'http://a:9093'\n  timeout: 1h\n", "c.yaml:3: alertmanager.timeout: must be between 100ms and 5m, got 1h"},
		{"namespace", "kubernetes:\n  namespaces: [production, \"prod\\u202e\"]\n", `c.yaml:2: kubernetes.namespaces[1]: "prod\u202e" is not a namespace name`},
		{"max response", "prometheus:\n  url: 'http://p:9090'\n  max_response_mib: -1\n", "c.yaml:3: prometheus.max_response_mib: must be between 1 and 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got  %v\nwant %s…", err, tc.want)
			}
		})
	}
}

// TestBadURLDoesNotEchoPassword: the URL that fails to parse.
func TestBadURLDoesNotEchoPassword(t *testing.T) {
	for _, u := range []string{"http://u:pw4711@[::1", "prom://u:pw4711@p:9090", "http://u:pw4711@"} {
		_, err := Parse("c.yaml", []byte("prometheus: {url: '"+u+"'}\n"))
		if err == nil || strings.Contains(err.Error(), "pw4711") || !strings.HasPrefix(err.Error(), "c.yaml:1: prometheus.url: ") {
			t.Errorf("%s: %v", u, err)
		}
	}
}

// TestTrailingEmptyDocumentIsFine: a lone --- at the end is a common copy
// artifact, not a second config.
func TestTrailingEmptyDocumentIsFine(t *testing.T) {
	if _, err := Parse("c.yaml", []byte("---\nenvironment: a\n---\n")); err != nil {
		t.Error(err)
	}
}

// TestEveryNumberIsBounded is issue 16.12: aws.timeout: 1ns and 1000h
// passed config check, and so did the same holes elsewhere; every duration
// and number the file sets has a floor and a ceiling, reported at its line.
func TestEveryNumberIsBounded(t *testing.T) {
	aws := "aws:\n  region: us-east-1\n"
	prom := "prometheus:\n  url: 'http://p:9090'\n"
	slo := prom + "slos:\n  - name: a\n    objective: 0.99\n    good: 'x[{{.window}}]'\n    total: 'y[{{.window}}]'\n"
	serve := "serve:\n  users: [{name: alice, role: operator, keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice']}]\n"
	for _, tc := range []struct{ name, src, want string }{
		{"aws timeout 1ns", aws + "  timeout: 1ns\n", "c.yaml:3: aws.timeout: must be between 100ms and 5m, got 1ns"},
		{"aws timeout 1000h", aws + "  timeout: 1000h\n", "c.yaml:3: aws.timeout: must be between 100ms and 5m, got 1000h"},
		{"aws interval 1000h", aws + "  interval: 1000h\n", "c.yaml:3: aws.interval: must be at most 1h (got 1000h)"},
		{"aws min", aws + "  ecs:\n    cluster: c\n    services:\n      - {name: api, min: 100000}\n", "c.yaml:6: aws.ecs.services[0].min: must be between 0 and 5000"},
		{"postgres interval 1000h", "postgres:\n  - dsn: ''\n    interval: 1000h\n", "c.yaml:3: postgres[0].interval: must be at most 1h"},
		{"prometheus interval 2h", prom + "  interval: 2h\n", "c.yaml:3: prometheus.interval: must be at most 1h"},
		{"alertmanager interval 1000h", "alertmanager:\n  url: 'http://a:9093'\n  interval: 1000h\n", "c.yaml:3: alertmanager.interval: must be at most 1h"},
		{"spark_range 1ns", prom + "  spark_range: 1ns\n", "c.yaml:3: prometheus.spark_range: must be between 1m and 30d, got 1ns"},
		{"spark_range 1000d", prom + "  spark_range: 1000d\n", "c.yaml:3: prometheus.spark_range: must be between 1m and 30d, got 1000d"},
		{"slo window 1ns", slo + "    window: 1ns\n", "c.yaml:8: slos[0].window: must be between 1h and 366d, got 1ns"},
		{"slo window 10000d", slo + "    window: 10000d\n", "c.yaml:8: slos[0].window: must be between 1h and 366d"},
		{"max_targets", "policy:\n  max_targets: 100000000\n", "c.yaml:2: policy.max_targets: must be between 1 and 1000, got 100000000"},
		{"silence_max 1ns", "policy:\n  silence_max: 1ns\n", "c.yaml:2: policy.silence_max: must be between 1m and 30d, got 1ns"},
		{"silence_max 1000d", "policy:\n  silence_max: 1000d\n", "c.yaml:2: policy.silence_max: must be between 1m and 30d"},
		{"silence_max_alerts", "policy:\n  silence_max_alerts: 99999999\n", "c.yaml:2: policy.silence_max_alerts: must be between 1 and 10000"},
		{"serve idle 1000h", serve + "  idle_timeout: 1000h\n", "c.yaml:3: serve.idle_timeout: must be between 10s and 1d, or 0 to disable"},
		{"serve length 1000d", serve + "  max_session_length: 1000d\n", "c.yaml:3: serve.max_session_length: must be between 1m and 7d, or 0 to disable"},
		{"serve rate inf", serve + "  rate_limit: {per_second: .inf, burst: 5}\n", "c.yaml:3: serve.rate_limit.per_second: must be positive, at most 1000"},
		{"serve rate NaN", serve + "  rate_limit: {per_second: .nan, burst: 5}\n", "c.yaml:3: serve.rate_limit.per_second: must be positive, at most 1000"},
		{"serve burst", serve + "  rate_limit: {per_second: 1, burst: 1000000}\n", "c.yaml:3: serve.rate_limit.burst: must be between 1 and 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.src)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got  %q\nwant %q", err.Error(), tc.want)
			}
		})
	}
	// The bounds themselves are accepted.
	ok := aws + "  timeout: 5m\n  interval: 1h\n" + "policy:\n  max_targets: 1000\n  silence_max: 30d\n  silence_max_alerts: 10000\n"
	if _, err := Parse("c.yaml", []byte(ok)); err != nil {
		t.Errorf("bounds refused: %v", err)
	}
}
