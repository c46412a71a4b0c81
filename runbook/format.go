package runbook

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// ---------------------------------------------------------------- formatting

func pct(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*r)
}

// shortDur prints an age as the panes do: 45s, 12m, 1h05m, 3d.
func shortDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + shortDur(-d)
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// formatValue renders an expression's value for a value line.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case string:
		return x
	case int:
		return fmt.Sprint(x)
	case int64:
		return fmt.Sprint(x)
	case float64:
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			return "-"
		case x == math.Trunc(x) && math.Abs(x) < 1e9:
			return fmt.Sprintf("%.0f", x)
		case math.Abs(x) >= 100:
			return fmt.Sprintf("%.0f", x)
		}
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", x), "0"), ".")
	case time.Duration:
		return shortDur(x)
	case []Backend:
		return backendList(x)
	case Backend:
		return backendLine(x)
	case SLO:
		return fmt.Sprintf("%s %s", x.Name, x.Level)
	case Alert:
		return x.Name + " " + x.State
	case Rollout:
		return fmt.Sprintf("%s/%s revision %d %s", x.Namespace, x.Name, x.Revision, x.Status)
	case RDS:
		return fmt.Sprintf("%s (%s) %s %s", x.ID, x.Region, x.Role, x.Status)
	case ECS:
		return fmt.Sprintf("%s/%s (%s) %d/%d running", x.Cluster, x.Name, x.Region, x.Running, x.Desired)
	case []string:
		return strings.Join(x, ", ")
	case map[string]int:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, x[k])
		}
		return strings.Join(parts, ", ")
	case []any:
		return fmt.Sprintf("%d items", len(x))
	}
	return fmt.Sprint(v)
}

func backendLine(b Backend) string {
	return fmt.Sprintf("pid %d %s %s %s", b.PID, b.User, b.State, shortDur(b.Age))
}

// backendList names up to three backends, oldest first.
func backendList(bs []Backend) string {
	if len(bs) == 0 {
		return "none"
	}
	s := slices.Clone(bs)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Age > s[j].Age })
	parts := []string{}
	for i, b := range s {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("… %d more", len(s)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("pid %d %s", b.PID, shortDur(b.Age)))
	}
	return fmt.Sprintf("%d: %s", len(bs), strings.Join(parts, ", "))
}
