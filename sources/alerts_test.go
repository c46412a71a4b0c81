package sources_test

import (
	"testing"
	"time"

	"flightdeck/sources"
)

func TestSeverityRank(t *testing.T) {
	// Most urgent first; aliases rank with their severity, case does not
	// matter, unknown severities come before none at all.
	order := [][]string{{"critical", "page", "CRITICAL"}, {"error", "high"}, {"warning", "ticket", "Warning"}, {"info"}, {"debug", "p3"}, {""}}
	for i, group := range order {
		for _, sev := range group {
			if got := sources.SeverityRank(sev); got != sources.SeverityRank(order[i][0]) {
				t.Errorf("SeverityRank(%q) = %d, want that of %q", sev, got, order[i][0])
			}
			if i > 0 && sources.SeverityRank(sev) <= sources.SeverityRank(order[i-1][0]) {
				t.Errorf("SeverityRank(%q) does not rank after %q", sev, order[i-1][0])
			}
		}
	}
}

func TestSortAlerts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	as := []sources.Alert{
		{Name: "NoSev", StartsAt: t0, Fingerprint: "1"},
		{Name: "WarnNew", Severity: "warning", StartsAt: t0.Add(time.Minute), Fingerprint: "2"},
		{Name: "Other", Severity: "p3", StartsAt: t0, Fingerprint: "3"},
		{Name: "WarnOld", Severity: "warning", StartsAt: t0, Fingerprint: "4"},
		{Name: "Crit", Severity: "critical", StartsAt: t0.Add(time.Hour), Fingerprint: "5"},
		{Name: "Info", Severity: "info", StartsAt: t0, Fingerprint: "6"},
		{Name: "WarnOld", Severity: "warning", StartsAt: t0, Fingerprint: "0"},
		{Name: "AWarn", Severity: "warning", StartsAt: t0, Fingerprint: "9"},
	}
	sources.SortAlerts(as)
	var got []string
	for _, a := range as {
		got = append(got, a.Name+"/"+a.Fingerprint)
	}
	want := []string{"Crit/5", "AWarn/9", "WarnOld/0", "WarnOld/4", "WarnNew/2", "Info/6", "Other/3", "NoSev/1"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v\nwant  %v", got, want)
		}
	}
}

func TestMatcherSemantics(t *testing.T) {
	ls := []sources.Label{{"alertname", "HighErrorRate"}, {"namespace", "production"}, {"severity", "critical"}}
	for _, tc := range []struct {
		name string
		m    sources.Matcher
		want bool
	}{
		{"= hit", sources.Matcher{Name: "severity", Value: "critical", IsEqual: true}, true},
		{"= miss", sources.Matcher{Name: "severity", Value: "warning", IsEqual: true}, false},
		{"!= hit", sources.Matcher{Name: "severity", Value: "warning"}, true},
		{"!= miss", sources.Matcher{Name: "severity", Value: "critical"}, false},
		{"=~ hit", sources.Matcher{Name: "alertname", Value: "High.*", IsRegex: true, IsEqual: true}, true},
		{"=~ is anchored at the start", sources.Matcher{Name: "alertname", Value: "Error.*", IsRegex: true, IsEqual: true}, false},
		{"=~ is anchored at the end", sources.Matcher{Name: "alertname", Value: "High", IsRegex: true, IsEqual: true}, false},
		{"=~ alternation stays anchored", sources.Matcher{Name: "alertname", Value: "x|HighErrorRate", IsRegex: true, IsEqual: true}, true},
		{"!~ hit", sources.Matcher{Name: "namespace", Value: "stag.*", IsRegex: true}, true},
		{"!~ miss", sources.Matcher{Name: "namespace", Value: "prod.*", IsRegex: true}, false},
		{"missing label = empty", sources.Matcher{Name: "team", Value: "", IsEqual: true}, true},
		{"missing label != value", sources.Matcher{Name: "team", Value: "db"}, true},
		{"missing label =~ .*", sources.Matcher{Name: "team", Value: ".*", IsRegex: true, IsEqual: true}, true},
		{"missing label =~ .+", sources.Matcher{Name: "team", Value: ".+", IsRegex: true, IsEqual: true}, false},
		{"present label = empty", sources.Matcher{Name: "severity", Value: "", IsEqual: true}, false},
	} {
		got, err := tc.m.Matches(ls)
		if err != nil || got != tc.want {
			t.Errorf("%s: Matches = %v, %v; want %v", tc.name, got, err, tc.want)
		}
		c, err := tc.m.Compile()
		if err != nil || c.Matches(ls) != tc.want {
			t.Errorf("%s: compiled Matches = %v, %v; want %v", tc.name, c.Matches(ls), err, tc.want)
		}
	}
}

func TestMatchAll(t *testing.T) {
	ls := []sources.Label{{"alertname", "HighCPUUsage"}, {"job", "node"}}
	eq := func(n, v string) sources.Matcher { return sources.Matcher{Name: n, Value: v, IsEqual: true} }
	bad := sources.Matcher{Name: "job", Value: "(", IsRegex: true, IsEqual: true}
	for _, tc := range []struct {
		name    string
		ms      []sources.Matcher
		want    bool
		wantErr bool
	}{
		{"none", nil, true, false},
		{"all hit", []sources.Matcher{eq("alertname", "HighCPUUsage"), eq("job", "node")}, true, false},
		{"one misses", []sources.Matcher{eq("alertname", "HighCPUUsage"), eq("job", "api")}, false, false},
		{"bad regex after a miss is still an error", []sources.Matcher{eq("job", "api"), bad}, false, true},
	} {
		got, err := sources.MatchAll(tc.ms, ls)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("%s: MatchAll = %v, %v", tc.name, got, err)
		}
	}
}

func TestFillFromLabels(t *testing.T) {
	a := sources.Alert{
		Labels:      []sources.Label{{"alertname", "HighErrorRate"}, {"severity", "critical"}},
		Annotations: []sources.Label{{"description", "d"}, {"runbook", "rb-fallback"}, {"runbook_url", "rb"}, {"summary", "s"}},
	}
	a.FillFromLabels()
	if a.Name != "HighErrorRate" || a.Severity != "critical" || a.Summary != "s" || a.Description != "d" || a.RunbookURL != "rb" {
		t.Errorf("%+v", a)
	}
	b := sources.Alert{Annotations: []sources.Label{{"runbook", "rb-fallback"}}}
	b.FillFromLabels()
	if b.RunbookURL != "rb-fallback" || b.Name != "" {
		t.Errorf("runbook fallback: %+v", b)
	}
}
