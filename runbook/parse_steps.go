package runbook

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"flightdeck/internal/duration"
	"flightdeck/internal/sanitize"
	"flightdeck/ops"
	"flightdeck/sources"
)

// ---------------------------------------------------------------- runbooks and steps

func (p *fileParser) runbook(root *yaml.Node) *Runbook {
	b := &Runbook{}
	if root.Kind != yaml.MappingNode {
		p.errAt(root, "", "a runbook is a mapping of keys (%s)", strings.Join(topKeys, ", "))
		return b
	}
	m := p.mapping(root, "", topKeys)
	if e, ok := m["name"]; ok {
		b.Name, b.nameLine = p.str(e, "name"), e.val.Line
		if b.Name != "" && !nameRE.MatchString(b.Name) {
			p.errAt(e.val, "name", "use lowercase letters, digits, - . _ (at most 64), got %q", b.Name)
		}
	} else {
		p.errAt(root, "name", "required: the runbook's identifier, e.g. high-error-rate")
	}
	if e, ok := m["title"]; ok {
		b.Title = p.text(e, "title", maxTitle)
	}
	if b.Title == "" {
		p.errAt(root, "title", "required")
	}
	if e, ok := m["description"]; ok {
		b.Description = p.text(e, "description", maxText)
	}
	if e, ok := m["opens_on"]; ok {
		b.OpensOn = p.opensOn(e)
	}
	if e, ok := m["symptoms"]; ok {
		b.Symptoms = p.strList(e, "symptoms")
	}
	e, ok := m["steps"]
	switch {
	case !ok:
		p.errAt(root, "steps", "required: the runbook's ordered steps")
	case e.val.Kind != yaml.SequenceNode || len(e.val.Content) == 0:
		p.errAt(e.val, "steps", "expected a list of steps")
	case len(e.val.Content) > maxSteps:
		p.errAt(e.val, "steps", "more than %d steps", maxSteps)
	default:
		for i, sn := range e.val.Content {
			p.step, p.title = i+1, ""
			b.Steps = append(b.Steps, p.stepOf(sn))
		}
		p.step, p.title = 0, ""
	}
	return b
}

func (p *fileParser) opensOn(e entry) OpensOn {
	var o OpensOn
	m := p.mapping(e.val, "opens_on", []string{"alerts", "matchers", "runbook_urls"})
	o.Alerts = p.strList(m["alerts"], "opens_on.alerts")
	o.RunbookURLs = p.strList(m["runbook_urls"], "opens_on.runbook_urls")
	if me, ok := m["matchers"]; ok {
		for i, s := range p.strList(me, "opens_on.matchers") {
			field := fmt.Sprintf("opens_on.matchers[%d]", i)
			mt, err := parseMatcher(s)
			if err == nil {
				var c sources.CompiledMatcher
				if c, err = mt.Compile(); err == nil {
					o.Matchers = append(o.Matchers, mt)
					o.compiled = append(o.compiled, c)
					continue
				}
			}
			p.errAt(me.val.Content[i], field, "%v", err)
		}
	}
	return o
}

var matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$`)

// parseMatcher reads one Alertmanager matcher: name="value", name=~"re",
// name!="value", name!~"re" (quotes optional).
func parseMatcher(s string) (sources.Matcher, error) {
	m := matcherRE.FindStringSubmatch(s)
	if m == nil {
		return sources.Matcher{}, fmt.Errorf("not a matcher: %q (use name=\"value\", name=~\"regex\", name!=\"value\")", s)
	}
	val := m[3]
	if strings.HasPrefix(val, `"`) {
		v, err := strconv.Unquote(val)
		if err != nil {
			return sources.Matcher{}, fmt.Errorf("bad quoted value %s", val)
		}
		val = v
	}
	return sources.Matcher{Name: m[1], Value: val, IsRegex: strings.Contains(m[2], "~"), IsEqual: m[2][0] == '='}, nil
}

// stepKeys are the keys each kind of step takes besides kind and title.
var stepKeys = map[StepKind][]string{
	Check:  {"expr", "show"},
	Verify: {"expr", "within", "show"},
	View:   {"pane", "filter", "target", "view"},
	Action: append([]string{"action", "when", "show", "source"}, templateKeys...),
	Note:   {"text", "command"},
	// A notify step becomes an action step (parse_notify.go).
	NotifyStep: {"sink", "message", "text", "when"},
}

var stepKinds = []string{string(Check), string(View), string(Action), string(Verify), string(Note), string(NotifyStep)}

func (p *fileParser) stepOf(n *yaml.Node) Step {
	s := Step{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.errAt(n, "", "a step is a mapping with kind: and title:")
		return s
	}
	raw := p.mapping(n, "", nil)
	if e, ok := raw["title"]; ok {
		s.Title = p.text(e, "title", maxTitle)
		p.title = s.Title
	}
	ke, ok := raw["kind"]
	if !ok {
		p.errAt(n, "kind", "required: one of %s", strings.Join(stepKinds, ", "))
		return s
	}
	s.Kind = StepKind(p.str(ke, "kind"))
	keys, ok := stepKeys[s.Kind]
	if !ok {
		p.errAt(ke.val, "kind", "unknown step kind %q%s", s.Kind, suggest(string(s.Kind), stepKinds))
		return s
	}
	if s.Title == "" {
		p.errAt(n, "title", "required")
	}
	all := append([]string{"kind", "title"}, keys...)
	for k, e := range raw {
		if slices.Contains(all, k) {
			continue
		}
		other := ""
		for _, kind := range stepKinds {
			if slices.Contains(stepKeys[StepKind(kind)], k) {
				other = kind
				break
			}
		}
		if other != "" {
			p.errAt(e.key, k, "does not apply to a %s step (it is for %s steps)", s.Kind, other)
		} else {
			p.errAt(e.key, k, "unknown key%s", suggest(k, all))
		}
	}
	switch s.Kind {
	case Check, Verify:
		e, ok := raw["expr"]
		if !ok {
			p.errAt(n, "expr", "required: the condition, e.g. pg.ratio >= 0.8")
		} else {
			s.Expr, s.cond = p.cond(e, "expr")
		}
		if s.Kind == Verify {
			if e, ok := raw["within"]; ok {
				s.Within = p.duration(e, "within")
				if s.Within > 24*time.Hour {
					p.errAt(e.val, "within", "at most 24h")
				}
			} else {
				p.errAt(n, "within", "required: how long the condition may take to hold, e.g. 2m")
			}
		}
		s.Show = p.shows(raw["show"])
	case View:
		p.view(&s, n, raw)
	case Action:
		p.action(&s, n, raw)
	case NotifyStep:
		p.notify(&s, n, raw)
	case Note:
		s.Text = p.text(raw["text"], "text", maxText)
		s.Command = p.text(raw["command"], "command", maxText)
		if s.Text == "" && s.Command == "" {
			p.errAt(n, "text", "required: what to do (and command: to copy)")
		}
	}
	return s
}

func (p *fileParser) shows(e entry) []Shown {
	if e.val == nil {
		return nil
	}
	if e.val.Kind != yaml.SequenceNode {
		p.errAt(e.val, "show", "expected a list of expressions or label: expression pairs")
		return nil
	}
	if len(e.val.Content) > maxList {
		p.errAt(e.val, "show", "more than %d entries", maxList)
		return nil
	}
	out := []Shown{}
	for i, v := range e.val.Content {
		field := fmt.Sprintf("show[%d]", i)
		var sh Shown
		src := v
		switch v.Kind {
		case yaml.ScalarNode:
			sh.Expr = v.Value
			sh.Label = sanitize.Text(v.Value)
		case yaml.MappingNode:
			if len(v.Content) != 2 {
				p.errAt(v, field, "expected one label: expression pair")
				continue
			}
			sh.Label = sanitize.Text(v.Content[0].Value)
			src = v.Content[1]
			if src.Kind != yaml.ScalarNode {
				p.errAt(src, field, "expected an expression")
				continue
			}
			sh.Expr = src.Value
		default:
			p.errAt(v, field, "expected an expression or label: expression")
			continue
		}
		prog, needs, err := compileValue(sh.Expr)
		if err != nil {
			p.exprErr(src, field, err)
			continue
		}
		sh.prog, sh.needs = prog, needs
		out = append(out, sh)
	}
	return out
}

var panes = []string{string(sources.KindSLO), string(sources.KindAlerts), string(sources.KindPostgres), string(sources.KindRollouts), string(LogsPane)}

func (p *fileParser) view(s *Step, n *yaml.Node, raw map[string]entry) {
	e, ok := raw["pane"]
	if !ok {
		p.errAt(n, "pane", "required: one of %s", strings.Join(panes, ", "))
		return
	}
	pane := p.str(e, "pane")
	if !slices.Contains(panes, pane) {
		p.errAt(e.val, "pane", "unknown pane %q%s", pane, suggest(pane, panes))
		return
	}
	s.Pane = sources.Kind(pane)
	te, hasTarget := raw["target"]
	switch {
	case s.Pane == LogsPane && !hasTarget:
		p.errAt(n, "target", "required for the logs view: a deployment (production/nudgecampaign-api) or an ECS service (us-east-1/nudgecampaign-production/api)")
	case s.Pane == LogsPane:
		s.Target = p.text(te, "target", maxTitle)
	case hasTarget:
		p.errAt(te.val, "target", "only the logs view takes a target")
	}
	if ve, ok := raw["view"]; ok {
		names := make([]string, len(sources.PGViewOrder))
		for i, v := range sources.PGViewOrder {
			names[i] = string(v)
		}
		switch v := p.str(ve, "view"); {
		case s.Pane != sources.KindPostgres:
			p.errAt(ve.val, "view", "only the postgres pane has views (%s)", strings.Join(names, ", "))
		case !slices.Contains(names, v):
			p.errAt(ve.val, "view", "unknown postgres view %q%s; one of %s", v, suggest(v, names), strings.Join(names, ", "))
		default:
			s.PaneView = v
		}
	}
	if fe, ok := raw["filter"]; ok {
		s.Filter = p.text(fe, "filter", maxTitle)
		// The activity's filter language; the other views match text.
		if s.Pane == sources.KindPostgres && (s.PaneView == "" || s.PaneView == string(sources.PGViewActivity)) {
			if err := checkBackendFilter(s.Filter); err != nil {
				p.errAt(fe.val, "filter", "%v", err)
			}
		}
	}
}

// actionKinds are the actions a runbook may take: every ops.Kind but
// expire, which needs a silence id no runbook can know.
var actionKinds = []string{string(ops.Cancel), string(ops.Terminate), string(ops.Undo), string(ops.Restart),
	string(ops.Scale), string(ops.Pause), string(ops.Resume), string(ops.Silence),
	string(ops.PromoteReplica), string(ops.RebootDB), string(ops.RebootDBFailover), string(ops.FailoverCluster),
	string(ops.SetDesiredCount), string(ops.ForceDeployment), string(ops.RollbackTaskDef)}

// templateKeys are every action template key besides source.
var templateKeys = []string{"backends", "root_blockers", "deployment", "to_revision", "replicas", "override", "duration", "comment",
	"region", "instance", "db_cluster", "failover_target", "cluster", "service", "desired", "task_definition"}

// actionKeys are the template keys each action takes besides source.
var actionKeys = map[ops.Kind][]string{
	ops.Cancel:    {"backends", "root_blockers"},
	ops.Terminate: {"backends", "root_blockers"},
	ops.Undo:      {"deployment", "to_revision"},
	ops.Restart:   {"deployment"},
	ops.Pause:     {"deployment"},
	ops.Resume:    {"deployment"},
	ops.Scale:     {"deployment", "replicas", "override"},
	ops.Silence:   {"duration", "comment"},

	ops.PromoteReplica:   {"region", "instance"},
	ops.RebootDB:         {"region", "instance"},
	ops.RebootDBFailover: {"region", "instance"},
	ops.FailoverCluster:  {"region", "db_cluster", "failover_target"},
	ops.SetDesiredCount:  {"region", "cluster", "service", "desired", "override"},
	ops.ForceDeployment:  {"region", "cluster", "service"},
	ops.RollbackTaskDef:  {"region", "cluster", "service", "task_definition"},
}

// AWS names as the APIs accept them: a region (us-west-2, us-gov-east-1),
// an RDS identifier (a letter, then letters, digits and single hyphens, at
// most 63), an ECS cluster or service name (at most 255 of letters,
// digits, - and _), a task definition family:revision.
var (
	awsRegionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	rdsIDRE     = regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9]|-[a-zA-Z0-9]){0,62}$`)
	ecsNameRE   = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)
	taskDefRE   = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}:[1-9][0-9]*$`)
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

func (p *fileParser) action(s *Step, n *yaml.Node, raw map[string]entry) {
	if e, ok := raw["when"]; ok {
		s.When, s.when = p.cond(e, "when")
	}
	s.Show = p.shows(raw["show"])
	e, ok := raw["action"]
	if !ok {
		p.errAt(n, "action", "required: one of %s", strings.Join(actionKinds, ", "))
		return
	}
	kind := p.str(e, "action")
	if kind == string(ops.Expire) {
		p.errAt(e.val, "action", "expire needs a silence id a runbook cannot know; silence the run's alert instead")
		return
	}
	if !slices.Contains(actionKinds, kind) {
		p.errAt(e.val, "action", "unknown action kind %q%s", kind, suggest(kind, actionKinds))
		return
	}
	a := &ActionTemplate{Kind: ops.Kind(kind)}
	s.Act = a
	allowed := append([]string{"source"}, actionKeys[a.Kind]...)
	for _, k := range templateKeys {
		if e, ok := raw[k]; ok && !slices.Contains(allowed, k) {
			p.errAt(e.key, k, "does not apply to %s (it takes %s)", kind, strings.Join(allowed, ", "))
		}
	}
	if e, ok := raw["source"]; ok {
		a.Source = p.text(e, "source", maxTitle)
	}
	required := func(key, what string) (entry, bool) {
		e, ok := raw[key]
		if !ok {
			p.errAt(n, key, "required for %s: %s", kind, what)
		}
		return e, ok
	}
	switch a.Kind {
	case ops.Cancel, ops.Terminate:
		if e, ok := required("backends", `a Postgres filter such as "state:!idle >10m"`); ok {
			a.Backends = p.str(e, "backends")
			if err := checkBackendFilter(a.Backends); err != nil {
				p.errAt(e.val, "backends", "%v", err)
			} else if sources.ParseBackendFilter(a.Backends).Empty() {
				p.errAt(e.val, "backends", "an empty filter selects every backend; say which (e.g. state:!idle >10m)")
			}
		}
		if e, ok := raw["root_blockers"]; ok {
			a.RootBlockers = p.boolean(e, "root_blockers")
		}
	case ops.Undo, ops.Restart, ops.Scale, ops.Pause, ops.Resume:
		if e, ok := required("deployment", "namespace/name, e.g. production/nudgecampaign-api"); ok {
			key := p.str(e, "deployment")
			ns, name, found := strings.Cut(key, "/")
			switch {
			case key == "":
				p.errAt(e.val, "deployment", "required for %s: namespace/name", kind)
			case !found || !dnsLabel.MatchString(ns) || !dnsLabel.MatchString(name):
				p.errAt(e.val, "deployment", "give namespace/name (lowercase), e.g. production/nudgecampaign-api; got %q", key)
			default:
				a.Namespace, a.Deployment = ns, name
			}
		}
		if e, ok := raw["to_revision"]; ok {
			a.ToRevision = p.integer(e, "to_revision")
			if a.ToRevision < 0 {
				p.errAt(e.val, "to_revision", "must be a revision number (0 or absent: the previous one)")
			}
		}
		if a.Kind == ops.Scale {
			if e, ok := required("replicas", "the new replica count"); ok {
				r := p.integer(e, "replicas")
				if r < 0 {
					p.errAt(e.val, "replicas", "cannot be negative")
				}
				a.Replicas = int32(r)
			}
			if e, ok := raw["override"]; ok {
				a.Override = p.boolean(e, "override")
			}
		}
	case ops.PromoteReplica, ops.RebootDB, ops.RebootDBFailover, ops.FailoverCluster,
		ops.SetDesiredCount, ops.ForceDeployment, ops.RollbackTaskDef:
		p.awsTemplate(a, raw, required)
	case ops.Silence:
		if e, ok := required("duration", "how long, e.g. 1h"); ok {
			a.Duration = p.duration(e, "duration")
		}
		if e, ok := required("comment", "why, as Alertmanager records it"); ok {
			a.Comment = p.text(e, "comment", maxTitle)
			if a.Comment == "" {
				p.errAt(e.val, "comment", "required for silence")
			}
		}
	}
}

// awsTemplate reads the keys of an AWS action: region, then the instance,
// Aurora cluster or ECS service it acts on, then its knobs.
func (p *fileParser) awsTemplate(a *ActionTemplate, raw map[string]entry, required func(key, what string) (entry, bool)) {
	name := func(key, what string, re *regexp.Regexp, rule string) string {
		e, ok := required(key, what)
		if !ok {
			return ""
		}
		v := p.str(e, key)
		if !re.MatchString(v) {
			p.errAt(e.val, key, "%s; got %q", rule, v)
			return ""
		}
		return v
	}
	a.Region = name("region", "the AWS region, e.g. us-west-2", awsRegionRE, "not an AWS region (e.g. us-west-2)")
	switch a.Kind {
	case ops.PromoteReplica, ops.RebootDB, ops.RebootDBFailover:
		a.Instance = name("instance", "the RDS instance identifier, e.g. nudgecampaign-dr-db", rdsIDRE,
			"not an RDS instance identifier (a letter, then letters, digits and single hyphens)")
	case ops.FailoverCluster:
		a.DBCluster = name("db_cluster", "the Aurora cluster identifier", rdsIDRE,
			"not an Aurora cluster identifier (a letter, then letters, digits and single hyphens)")
		if e, ok := raw["failover_target"]; ok {
			v := p.str(e, "failover_target")
			if !rdsIDRE.MatchString(v) {
				p.errAt(e.val, "failover_target", "not an RDS instance identifier; got %q (leave it out to let RDS choose)", v)
			}
			a.FailoverTarget = v
		}
	default: // ECS
		a.Cluster = name("cluster", "the ECS cluster, e.g. nudgecampaign-dr", ecsNameRE, "not an ECS cluster name (letters, digits, - and _)")
		a.Service = name("service", "the ECS service, e.g. api", ecsNameRE, "not an ECS service name (letters, digits, - and _)")
	}
	switch a.Kind {
	case ops.SetDesiredCount:
		if e, ok := required("desired", "the new desired count"); ok {
			n := p.integer(e, "desired")
			if n < 0 {
				p.errAt(e.val, "desired", "cannot be negative")
			}
			a.Desired = int32(n)
		}
		if e, ok := raw["override"]; ok {
			a.Override = p.boolean(e, "override")
		}
	case ops.RollbackTaskDef:
		if e, ok := raw["task_definition"]; ok {
			v := p.str(e, "task_definition")
			if !taskDefRE.MatchString(v) {
				p.errAt(e.val, "task_definition", "give family:revision, e.g. nudgecampaign-api:56 (leave it out for the previous revision); got %q", v)
			}
			a.TaskDefinition = v
		}
	}
}

// knownStates are pg_stat_activity's states; a filter's state: must name a
// prefix of one (after the pane's aliases).
var knownStates = []string{"active", "idle", "idle in transaction", "idle in transaction (aborted)",
	"fastpath function call", "disabled", "starting"}

var filterFields = []string{"user", "app", "db", "state", "wait", "sort"}

// fieldName is what a misspelt field looks like (usr:bob), as opposed to
// free text that happens to hold a colon (10.0.0.1:5432).
var fieldName = regexp.MustCompile(`^[a-z_]+$`)

// checkBackendFilter validates what sources.ParseBackendFilter would take
// as free text by mistake: a duration that does not parse, a state that
// does not exist, a misspelt field.
func checkBackendFilter(f string) error {
	for _, tok := range strings.Fields(strings.ToLower(f)) {
		name, val, hasColon := strings.Cut(tok, ":")
		switch {
		case tok == "blocking" || tok == "blocked":
		case strings.HasPrefix(tok, ">") || strings.HasPrefix(tok, "dur>"):
			d := strings.TrimPrefix(strings.TrimPrefix(tok, "dur"), ">")
			if _, err := duration.Parse(d); err != nil {
				return fmt.Errorf("%q: not a duration (use e.g. >10m)", tok)
			}
		case hasColon && slices.Contains(filterFields, name):
			v := strings.TrimPrefix(val, "!")
			if v == "" {
				return fmt.Errorf("%q: no value after the colon", tok)
			}
			if name == "state" {
				st := sources.ParseBackendFilter("state:" + v)
				if !stateExists(st) {
					return fmt.Errorf("%q: no such state (%s; or idle-in-tx, aborted)", tok, strings.Join(knownStates, ", "))
				}
			}
		case hasColon && fieldName.MatchString(name):
			if s := suggest(name, filterFields); strings.HasPrefix(s, " (did you mean") {
				return fmt.Errorf("unknown field %s:%s", name, s)
			}
		}
	}
	return nil
}

// stateExists reports whether a one-token state filter keeps any of the
// known states.
func stateExists(f sources.BackendFilter) bool {
	for _, st := range knownStates {
		b := sources.Backend{State: st}
		if f.Match(&b, 0, false, false) {
			return true
		}
	}
	return false
}
