package runbook_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"flightdeck/runbook"
	"flightdeck/sources"
)

// The manual's "Slow Database Queries" on the demo's pile-up: the check
// finds the pile-up's statements over 100 ms, the tables check reads the
// bloated table, and the pg.* views answer.
func TestDemoSlowDatabaseQueries(t *testing.T) {
	d, _ := demoDriver(t)
	set := builtinSet(t)
	rb := set.Get("slow-database-queries")
	if rb == nil || rb.Title != "Slow Database Queries" {
		t.Fatalf("runbook: %+v", rb)
	}
	d.pollUntil("the lock pile-up", 400, func(s []sources.Snapshot) bool {
		p := pgOf(s)
		n := 0
		for _, b := range p.Backends {
			if b.WaitType == "Lock" {
				n++
			}
		}
		return n >= 3
	})
	d.start(rb, nil)
	d.do(stepIndex(t, rb, "Find slow queries"))
	find := d.view(stepIndex(t, rb, "Find slow queries"))
	if find.State != runbook.OK {
		t.Fatalf("find slow queries: %s (%s) %v", find.State, find.Reason, find.Values)
	}
	if !strings.Contains(fmt.Sprint(find.Values), "campaigns") {
		t.Errorf("slowest statement shown: %v", find.Values)
	}
	d.do(stepIndex(t, rb, "Check the tables' statistics"))
	tables := d.view(stepIndex(t, rb, "Check the tables' statistics"))
	if tables.State != runbook.Failed || !strings.Contains(fmt.Sprint(tables.Values), "sessions") &&
		!strings.Contains(fmt.Sprint(tables.Values), "email_deliveries") {
		t.Errorf("tables check: %s (%s) %v", tables.State, tables.Reason, tables.Values)
	}
	// The recent mean is over 100 ms while the chain holds.
	verify := stepIndex(t, rb, "Mean time falls")
	d.do(stepIndex(t, rb, "The backends running them"))
	d.do(stepIndex(t, rb, "Cancel queries"))
	d.do(verify)
	d.observe()
	if v := d.view(verify); v.State != runbook.Waiting {
		t.Fatalf("verify during the pile-up: %s (%s)", v.State, v.Reason)
	}
	// It passes once the chain is gone (the idle transaction times out).
	for n := 0; d.view(verify).State == runbook.Waiting; n++ {
		if n == 600 {
			t.Fatalf("verify still waiting: %+v", d.view(verify))
		}
		d.observe()
	}
	if v := d.view(verify); v.State != runbook.OK {
		t.Errorf("verify: %s (%s) %v", v.State, v.Reason, v.Values)
	}
	if r := d.results[stepIndex(t, rb, "Cancel queries")]; !r.OK && !r.Refused {
		t.Errorf("cancel: %+v", r)
	}
}

// pg.statement, pg.replication, pg.slot and pg.table on the demo, and
// unknown (with the view wanted) before the view was read.
func TestPGViewExpressions(t *testing.T) {
	d, _ := demoDriver(t)
	d.pollUntil("replica behind", 400, func(s []sources.Snapshot) bool {
		return pgOf(s).Views.Replication.Senders[0].ReplayLagBytes > sources.ReplicationLagWarnBytes
	})
	exprs := []string{
		`pg.replication("nudgecampaign-replica").lag_bytes > 16777216`,
		`pg.replication("nudgecampaign-replica").lag_seconds > 1`,
		`pg.slot("etl_export_2023").retained_bytes > 1073741824`,
		`!pg.slot("etl_export_2023").active`,
		`pg.table("sessions").dead_ratio > 0.4`,
		`pg.table("public.email_deliveries").vacuum_ago.Hours() > 24`,
		`pg.statement("FOR UPDATE").calls > 0`,
		`len(pg.slots()) == 3 && len(pg.replicas()) == 2`,
	}
	var yaml strings.Builder
	yaml.WriteString("name: pg-views\ntitle: pg views\nsteps:\n")
	for i, e := range exprs {
		fmt.Fprintf(&yaml, "  - kind: check\n    title: c%d\n    expr: '%s'\n", i, strings.ReplaceAll(e, "'", "''"))
	}
	rb, err := runbook.Load("pg-views.yaml", []byte(yaml.String()))
	if err != nil {
		t.Fatal(err)
	}
	d.start(rb, nil)
	for i, e := range exprs {
		d.do(i)
		if v := d.view(i); v.State != runbook.OK {
			t.Errorf("%s: %s (%s)", e, v.State, v.Reason)
		}
	}
	// Before any reading: unknown, and the view is wanted from the source.
	bare := *pgOf(d.snaps)
	bare.Views = nil
	only := []sources.Snapshot{{Source: "pg other", Kind: sources.KindPostgres, Data: &bare, FetchedAt: d.now()}}
	run, _ := runbook.Start(rb, nil, "oncall@test", d.exec.Policy(), d.now())
	run.Observe(only, d.now())
	if dir, _ := run.Do(0, d.now()); !strings.Contains(dir.Message, "unknown") || !strings.Contains(dir.Message, "not been read yet") {
		t.Errorf("unread view: %s", dir.Message)
	}
	if !sources.ViewWants.Wanted("pg other", sources.PGViewReplication, time.Now()) {
		t.Error("the replication view is not wanted after a runbook asked for it")
	}
}
