package alerts

import "testing"

func TestParseMatchers(t *testing.T) {
	ms, err := parseMatchers(`{alertname="A, B", severity=~"crit.*", team!="x"}`)
	if err != nil || len(ms) != 3 || ms[0].Value != "A, B" || !ms[1].IsRegex || ms[2].IsEqual {
		t.Fatalf("%+v %v", ms, err)
	}
	if _, err := parseMatchers(`{alertname="A}`); err == nil {
		t.Error("unterminated quote accepted")
	}
}
