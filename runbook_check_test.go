package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// config check loads the built-in runbooks and those of the configured
// directories (~ expanded); a broken one fails with file, line and step.
func TestConfigCheckRunbooks(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := filepath.Join(home, "runbooks")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(home, "c.yaml")
	os.WriteFile(cfg, []byte("environment: staging\nrunbooks: [~/runbooks]\n"), 0o600)
	book := filepath.Join(dir, "slow.yaml")
	good := "name: slow-queries\ntitle: Slow queries\nsteps:\n  - kind: check\n    title: Long queries\n    expr: pg.count(\"state:active >5m\") > 0\n"
	os.WriteFile(book, []byte(good), 0o600)
	if _, errs, code := runCLI(t, "config", "check", "--config", cfg); code != 0 {
		t.Fatalf("valid runbook: exit %d: %s", code, errs)
	}
	bad := strings.Replace(good, "state:active >5m", "state:actve >5m", 1) +
		"  - kind: action\n    title: Restart\n    action: restart\n"
	os.WriteFile(book, []byte(bad), 0o600)
	_, errs, code := runCLI(t, "config", "check", "--config", cfg)
	want := book + `:6: step 1 "Long queries": expr: pg.count("state:actve >5m"): "state:actve": no such state` +
		` (active, idle, idle in transaction, idle in transaction (aborted), fastpath function call, disabled, starting; or idle-in-tx, aborted)` + "\n" +
		book + `:7: step 2 "Restart": deployment: required for restart: namespace/name, e.g. production/nudgecampaign-api`
	if code != 1 || strings.TrimSpace(errs) != want {
		t.Fatalf("exit %d\nstderr %q\nwant   %q", code, errs, want)
	}
}
