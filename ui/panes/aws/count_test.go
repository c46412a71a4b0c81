package aws

import (
	"strings"
	"testing"
)

// The desired-count form and the scale form share ops.ParseCount: past
// int32 is refused with the range, not as "no number".
func TestDesiredFormCountBounds(t *testing.T) {
	p := pane(t, 200, 16)
	row(t, p, "nudgecampaign-production/api")
	a := p.Actions()[0]
	f := a.Form(a.Request())
	_, err := f.Submit([]string{"2147483648", "no"})
	if err == nil || !strings.Contains(err.Error(), "desired count: want a whole number from 0 to 2147483647") {
		t.Errorf("2147483648: %v", err)
	}
}
