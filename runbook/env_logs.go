package runbook

import (
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"

	"flightdeck/internal/duration"
	"flightdeck/sources"
)

// Logs is a deployment's or ECS service's logs as expressions see them:
// logs("production/nudgecampaign-api").errors("5m") > 10,
// logs("us-east-1/nudgecampaign/api").count("5m", "/ 5\\d\\d /") == 0.
// Calling logs() asks the log sampler (sources/logcount) to read the
// target's last lines every 30 s while the step is evaluated; until its
// first sample (with that filter) arrives the expression is unknown.
// Windows end when the sample was read, and are at most an hour.
type Logs struct {
	// Target is the deployment "namespace/name" or the ECS service
	// "region/cluster/name" read.
	Target string `expr:"target"`
	// Lines is how many lines the latest sample read (the last
	// sources.LogSampleTail of each pod or stream).
	Lines int `expr:"lines"`
	// Age is how long ago the sample was read.
	Age time.Duration `expr:"age"`
	// Errors counts the lines of the window the log view highlights (an
	// HTTP 5xx status, error, exception, panic, fatal, OOM).
	Errors func(window string) int `expr:"errors"`
	// Count counts the lines of the window matching filter, written as in
	// the log view: a substring (any case) or /regular expression/; ""
	// counts every line.
	Count func(window, filter string) int `expr:"count"`
}

// logsEnv is the logs() function over w's snapshots.
func (w *world) logsEnv() func(target string) Logs {
	return func(target string) Logs {
		q := w.logQuery(target)
		sources.LogWants.Want(q, "", time.Now().Add(wantFor))
		s, ok := w.logs.Sample(q.Source, q.Target)
		if !ok {
			panic(&missing{fmt.Sprintf("the logs of %s have not been sampled yet", q.Target)})
		}
		if s.Err != "" {
			panic(&missing{fmt.Sprintf("logs of %s: %s", q.Target, s.Err)})
		}
		count := func(window, filter string, min sources.LogLevel) int {
			d := logWindow(window)
			if filter != "" {
				if err := checkLogFilter(filter); err != nil {
					panic(&missing{err.Error()})
				}
				sources.LogWants.Want(q, filter, time.Now().Add(wantFor))
			}
			n, ok := s.Count(d, min, filter)
			if !ok {
				panic(&missing{fmt.Sprintf("the logs of %s have not been counted for %q yet", q.Target, filter)})
			}
			return n
		}
		return Logs{Target: q.Target, Lines: len(s.Marks), Age: nonNeg(w.now.Sub(s.At)),
			Errors: func(window string) int { return count(window, "", sources.LogLevelError) },
			Count:  func(window, filter string) int { return count(window, filter, sources.LogLevelNone) },
		}
	}
}

// logQuery finds target among the deployments and ECS services with
// logs: by its full key, or by its last part when only one has it.
func (w *world) logQuery(target string) sources.LogQuery {
	var found []sources.LogQuery
	for _, snap := range w.snaps {
		for key, q := range sources.LogQueries(snap) {
			if key == target {
				return q
			}
			if !strings.Contains(target, "/") && strings.HasSuffix(key, "/"+target) {
				found = append(found, q)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0]
	case 0:
		panic(&missing{fmt.Sprintf("no deployment or ECS service %s with logs", target)})
	}
	panic(&missing{fmt.Sprintf("%q names several deployments or services: say it in full", target)})
}

// logWindow parses a count's window.
func logWindow(window string) time.Duration {
	d, err := parseLogWindow(window)
	if err != nil {
		panic(&missing{err.Error()})
	}
	return d
}

func parseLogWindow(window string) (time.Duration, error) {
	d, err := duration.Parse(window)
	if err != nil || d <= 0 || d > sources.MaxLogCountWindow {
		return 0, fmt.Errorf("log window %q: want a duration up to %s", window, duration.Format(sources.MaxLogCountWindow))
	}
	return d, nil
}

// checkLogFilter is what a log count's filter must be.
func checkLogFilter(filter string) error {
	if len(filter) > sources.MaxLogFilterBytes {
		return fmt.Errorf("log filter longer than %d bytes", sources.MaxLogFilterBytes)
	}
	if _, err := sources.ParseLogFilter(filter); err != nil {
		return fmt.Errorf("log filter %s: %v", filter, err)
	}
	return nil
}

// checkLogLiterals rejects at load the literal windows and filters of
// logs(…).errors and .count that could never be counted, rather than
// showing unknown forever.
func checkLogLiterals(root ast.Node) error {
	return methodCalls(root, func(recv ast.Node, name string, args []ast.Node) error {
		if name != "errors" && name != "count" {
			return nil
		}
		if inner, ok := recv.(*ast.CallNode); !ok || !isIdent(inner.Callee, "logs") {
			return nil
		}
		if w, ok := literal(args, 0); ok {
			if _, err := parseLogWindow(w); err != nil {
				return err
			}
		}
		if f, ok := literal(args, 1); ok && name == "count" {
			return checkLogFilter(f)
		}
		return nil
	})
}

func isIdent(n ast.Node, name string) bool {
	id, ok := n.(*ast.IdentifierNode)
	return ok && id.Value == name
}
