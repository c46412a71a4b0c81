package sources

import (
	"testing"
	"time"
)

func TestErrorBudgetIsDecimal(t *testing.T) {
	for obj, want := range map[float64]float64{0.999: 0.001, 0.99: 0.01, 0.9995: 0.0005, 0.95: 0.05, 0.9999: 0.0001, 0.99999: 0.00001} {
		if got := ErrorBudget(obj); got != want {
			t.Errorf("ErrorBudget(%v) = %v, want %v", obj, got, want)
		}
	}
}

// TestThresholdExactlyMetPages is the case: an error ratio of
// exactly 1.44% on a 99.9% objective is a 14.4× burn, which pages, as the
// SRE workbook's rule (and Sloth) would; and every threshold met exactly
// by any round objective triggers its rule.
func TestThresholdExactlyMetPages(t *testing.T) {
	// 144 errors in 10000 requests, computed as the sources do.
	errRatio := (10000.0 - 9856.0) / 10000.0
	burn := errRatio / ErrorBudget(0.999)
	level, reason := EvaluateBurn(map[time.Duration]float64{time.Hour: burn, 5 * time.Minute: burn})
	if level != SLOPage {
		t.Fatalf("1.44%% errors on 99.9%%: burn %v → %s (%s), want page", burn, level, reason)
	}
	rules := []struct {
		long, short time.Duration
		threshold   float64
		level       SLOLevel
	}{
		{time.Hour, 5 * time.Minute, PageFastBurn, SLOPage},
		{6 * time.Hour, 30 * time.Minute, PageSlowBurn, SLOPage},
		{24 * time.Hour, 2 * time.Hour, TicketFastBurn, SLOTicket},
		{72 * time.Hour, 6 * time.Hour, TicketSlowBurn, SLOTicket},
	}
	for _, obj := range []float64{0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999} {
		for _, r := range rules {
			// A million requests, the threshold's share of the budget failed.
			const total = 1e6
			bad := float64(int64(r.threshold*ErrorBudget(obj)*total + 0.5))
			b := bad / total / ErrorBudget(obj)
			got, _ := EvaluateBurn(map[time.Duration]float64{r.long: b, r.short: b})
			if got != r.level {
				t.Errorf("objective %v, %v× over %s/%s: burn %v → %s, want %s", obj, r.threshold, r.long, r.short, b, got, r.level)
			}
			// Just under the threshold, it does not.
			under := (bad - 1) / total / ErrorBudget(obj)
			if got, _ := EvaluateBurn(map[time.Duration]float64{r.long: under, r.short: under}); got == r.level && bad > 100 {
				t.Errorf("objective %v: burn %v under %v× met the rule", obj, under, r.threshold)
			}
		}
	}
}
