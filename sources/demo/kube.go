package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

const namespace = "production"

// podTemplate is the part of a pod template the demo tells apart.
type podTemplate struct {
	Container   string
	Image       string
	Env         []string // names only
	CPU, Memory string   // limits
	RestartedAt string   // kubectl.kubernetes.io/restartedAt
}

// hash is the pod-template-hash: equal templates share a ReplicaSet, as in
// Kubernetes (which is why an undo reuses the old ReplicaSet).
func (p podTemplate) hash() string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s", p.Container, p.Image, strings.Join(p.Env, ","), p.CPU, p.Memory, p.RestartedAt)
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	v := h.Sum64()
	b := make([]byte, 10)
	for i := range b {
		b[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
	}
	return string(b)
}

type revision struct {
	num     int64
	rs      string
	cause   string
	tmpl    podTemplate
	created time.Time
}

type pod struct {
	ip  string
	rev *revision
	up  int64 // the tick it became ready
}

type deployment struct {
	name       string
	uid        string
	subnet     string // pod IPs are subnet + "." + n
	poolPerPod int    // Postgres connections each pod keeps open
	app        string // application_name of those connections

	replicas        int32
	paused          bool
	generation      int64
	observed        int64
	resourceVersion int64
	history         []*revision
	cur             *revision
	// rolledAt is when cur became current; a rollback reuses an old
	// ReplicaSet, so its creation time alone would say "days ago".
	rolledAt         time.Time
	curPods, oldPods []pod
	nextStep         int64
	// pending is a template change made while paused; it rolls out on resume.
	pending      *podTemplate
	pendingCause string
}

func apiTemplate(image string) podTemplate {
	t := podTemplate{Container: "api", Image: image, Env: []string{"LOG_LEVEL", "NODE_ENV", "PGPOOL_MAX"}, CPU: "1000m", Memory: "2Gi"}
	switch image {
	case badImage:
		t.Env = []string{"CONTACT_IMPORT_BATCH_SIZE", "FEATURE_BULK_IMPORT", "LOG_LEVEL", "NODE_ENV", "PGPOOL_MAX"}
		t.Memory = "3Gi"
	case "nudgecampaign/api:v4.8.3", "nudgecampaign/api:v4.9.0":
		t.Env = []string{"NODE_ENV", "PGPOOL_MAX"}
	}
	return t
}

// initKube builds the namespace as it is before the incident.
func (w *World) initKube() {
	base := w.wall(w.loopStart)
	if w.nextIP == nil {
		w.nextIP = map[string]int{}
	}
	mk := func(name, subnet, app string, poolPerPod int, replicas int32, uid string, revs []*revision) *deployment {
		d := &deployment{name: name, uid: uid, subnet: subnet, app: app, poolPerPod: poolPerPod,
			replicas: replicas, generation: int64(len(revs) + 3), resourceVersion: 48_113_200 + int64(len(revs))*977}
		d.observed = d.generation
		for _, r := range revs {
			r.rs = name + "-" + r.tmpl.hash()
			r.cause = sanitize.Text(r.cause)
			r.tmpl.Image = sanitize.Text(r.tmpl.Image)
			d.history = append(d.history, r)
		}
		d.cur = revs[len(revs)-1]
		for range replicas {
			d.curPods = append(d.curPods, pod{ip: w.podIP(d), rev: d.cur, up: w.loopStart - 3600})
		}
		return d
	}
	ago := func(h float64) time.Time {
		return base.Add(-time.Duration(h * float64(time.Hour))).Truncate(time.Second)
	}
	setImage := func(name, container, image string) string {
		return "kubectl set image deployment/" + name + " " + container + "=" + image + " --record=true"
	}
	worker := func(image, restarted string) podTemplate {
		return podTemplate{Container: "worker", Image: image, Env: []string{"NODE_ENV", "QUEUE_CONCURRENCY", "SES_REGION"}, CPU: "500m", Memory: "1Gi", RestartedAt: restarted}
	}
	web := func(image string) podTemplate {
		return podTemplate{Container: "web", Image: image, Env: []string{"API_URL", "NODE_ENV"}, CPU: "250m", Memory: "512Mi"}
	}
	w.kevents = nil // events of the loop before are forgotten with it
	restartedAt := ago(19.5).UTC().Format(time.RFC3339)
	w.deps = []*deployment{
		mk("nudgecampaign-api", "10.0.1", "nudgecampaign-api", 5, 3, "6f1c9a2e-4b7d-4c31-9e58-2d0b7a41c3f5", []*revision{
			{num: 38, cause: setImage("nudgecampaign-api", "api", "nudgecampaign/api:v4.8.3"), tmpl: apiTemplate("nudgecampaign/api:v4.8.3"), created: ago(24 * 19.2)},
			{num: 39, cause: "deploy v4.9.0: campaign scheduling rewrite", tmpl: apiTemplate("nudgecampaign/api:v4.9.0"), created: ago(24 * 12.8)},
			{num: 40, cause: "deploy v4.9.2: fix timezone handling in scheduled sends", tmpl: apiTemplate("nudgecampaign/api:v4.9.2"), created: ago(24 * 7.1)},
			{num: 41, cause: "deploy v5.0.0: Node 20, new email template engine", tmpl: apiTemplate(goodImage), created: ago(51.3)},
		}),
		mk("nudgecampaign-worker", "10.0.2", "nudgecampaign-worker", 4, 2, "b83e0d17-29c4-4f6a-a1d2-7c5e9f30b812", []*revision{
			{num: 15, cause: setImage("nudgecampaign-worker", "worker", "nudgecampaign/worker:v3.4.0"), tmpl: worker("nudgecampaign/worker:v3.4.0", ""), created: ago(24 * 9.4)},
			{num: 16, cause: "deploy worker v3.4.1: retry SES throttling with backoff", tmpl: worker("nudgecampaign/worker:v3.4.1", ""), created: ago(24 * 4.6)},
			// a kubectl rollout restart: same change-cause, new template
			{num: 17, cause: "deploy worker v3.4.1: retry SES throttling with backoff", tmpl: worker("nudgecampaign/worker:v3.4.1", restartedAt), created: ago(19.5)},
		}),
		mk("nudgecampaign-web", "10.0.3", "", 0, 2, "0d4a7be2-8f13-4e9c-b6a0-51c2e8d94a77", []*revision{
			{num: 21, cause: "deploy web v2.11.0: campaign editor autosave", tmpl: web("nudgecampaign/web:v2.11.0"), created: ago(24 * 15.3)},
			{num: 22, cause: setImage("nudgecampaign-web", "web", "nudgecampaign/web:v2.11.1"), tmpl: web("nudgecampaign/web:v2.11.1"), created: ago(24 * 8.9)},
			{num: 23, cause: "deploy web v2.12.0: new contact list importer UI", tmpl: web("nudgecampaign/web:v2.12.0"), created: ago(24 * 2.2)},
		}),
	}
}

func (w *World) podIP(d *deployment) string {
	n, ok := w.nextIP[d.name]
	if !ok {
		n = 10 + w.ids.IntN(150)
	}
	n++
	if n > 250 {
		n = 10
	}
	w.nextIP[d.name] = n
	return d.subnet + "." + strconv.Itoa(n)
}

func (w *World) dep(name string) *deployment {
	for _, d := range w.deps {
		if d.name == name {
			return d
		}
	}
	return nil
}

// apiPods counts the API's ready pods and how many run the bad build.
func (w *World) apiPods() (bad, total int) {
	d := w.dep("nudgecampaign-api")
	for _, ps := range [][]pod{d.curPods, d.oldPods} {
		for _, p := range ps {
			total++
			if p.rev.tmpl.Image == badImage {
				bad++
			}
		}
	}
	return bad, total
}

// scriptKube is what the script does to the cluster on its own.
func (w *World) scriptKube(t int64) {
	api := w.dep("nudgecampaign-api")
	switch t {
	case deployAt:
		w.apply(api, apiTemplate(badImage), "deploy v5.1.0: batch contact import")
	case autoRollbackAt:
		if api.cur.tmpl.Image != badImage || api.paused {
			return
		}
		// Nobody rolled back: the deploy pipeline's canary check does.
		var to *revision
		for _, r := range api.history {
			if r.tmpl.Image == goodImage && (to == nil || r.num > to.num) {
				to = r
			}
		}
		if to != nil {
			w.rollTo(api, to)
		}
	}
}

// apply changes the template like kubectl set image / apply.
func (w *World) apply(d *deployment, tmpl podTemplate, cause string) {
	cause = sanitize.Text(cause)
	if d.paused {
		d.pending, d.pendingCause = &tmpl, cause
		d.generation++
		d.resourceVersion++
		return
	}
	for _, r := range d.history {
		if r.tmpl.hash() == tmpl.hash() {
			if r == d.cur {
				return
			}
			r.cause = cause
			w.rollTo(d, r)
			return
		}
	}
	r := &revision{rs: d.name + "-" + tmpl.hash(), cause: cause, tmpl: tmpl, created: w.wall(w.tick).Truncate(time.Second)}
	w.rollTo(d, r)
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// rollTo makes r the current revision with the next revision number, as the
// deployment controller does: a ReplicaSet that already exists keeps its
// name and creation time and loses its old number.
func (w *World) rollTo(d *deployment, r *revision) {
	var top int64
	for _, h := range d.history {
		top = max(top, h.num)
	}
	d.history = slices.DeleteFunc(d.history, func(h *revision) bool { return h == r })
	r.num = top + 1
	d.history = append(d.history, r)
	d.cur = r
	d.rolledAt = w.wall(w.tick).Truncate(time.Second)
	all := append(append([]pod(nil), d.curPods...), d.oldPods...)
	d.curPods, d.oldPods = nil, nil
	for _, p := range all {
		if p.rev == r {
			d.curPods = append(d.curPods, p)
		} else {
			d.oldPods = append(d.oldPods, p)
		}
	}
	// revisionHistoryLimit: 10
	if len(d.history) > 11 {
		sort.Slice(d.history, func(i, j int) bool { return d.history[i].num < d.history[j].num })
		d.history = d.history[len(d.history)-11:]
	}
	d.generation++
	d.resourceVersion++
	d.nextStep = w.tick + podStep
}

// stepDeployment runs the rolling update: maxSurge 1, maxUnavailable 0. A new
// pod is ready every podStep seconds and an old one goes for each.
func (w *World) stepDeployment(d *deployment) {
	if d.observed < d.generation {
		d.observed = d.generation
		d.resourceVersion++
	}
	if d.paused {
		return
	}
	changed := false
	if int32(len(d.curPods)) < d.replicas && w.tick >= d.nextStep {
		p := pod{ip: w.podIP(d), rev: d.cur, up: w.tick}
		d.curPods = append(d.curPods, p)
		d.nextStep = w.tick + podStep
		w.podUp(d, p.ip)
		changed = true
	}
	for int32(len(d.curPods)) > d.replicas {
		p := d.curPods[len(d.curPods)-1]
		d.curPods = d.curPods[:len(d.curPods)-1]
		w.podGone(p.ip)
		changed = true
	}
	for keep := max(0, int(d.replicas)-len(d.curPods)); len(d.oldPods) > keep; {
		p := d.oldPods[0]
		d.oldPods = d.oldPods[1:]
		w.podGone(p.ip)
		changed = true
	}
	if changed {
		d.resourceVersion++
	}
}

func (w *World) snapshotDeployment(d *deployment) sources.Deployment {
	cur, old := int32(len(d.curPods)), int32(len(d.oldPods))
	out := sources.Deployment{
		Namespace:          namespace,
		Name:               d.name,
		UID:                d.uid,
		ResourceVersion:    strconv.FormatInt(d.resourceVersion, 10),
		Generation:         d.generation,
		ObservedGeneration: d.observed,
		Replicas:           d.replicas,
		Ready:              cur + old,
		Available:          cur + old,
		Updated:            cur,
		Paused:             d.paused,
		Revision:           d.cur.num,
		Images:             []string{d.cur.tmpl.Image},
		RolledOutAt:        laterOf(d.cur.created, d.rolledAt),
		Selector:           "app=" + d.name,
		Evidence:           w.evidenceOf(d),
	}
	rolling := cur < d.replicas && !d.paused
	if rolling {
		out.Updated = cur + 1 // the surge pod, not ready yet
	}
	switch {
	case d.paused:
		out.State, out.Message = sources.RolloutPaused, "Deployment is paused"
	case d.observed < d.generation:
		out.State, out.Message = sources.RolloutProgressing, "Waiting for deployment spec update to be observed..."
	case cur < d.replicas:
		out.State = sources.RolloutProgressing
		out.Message = fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", d.name, cur, d.replicas)
	case old > 0 || cur > d.replicas:
		out.State = sources.RolloutProgressing
		out.Message = fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", d.name, old+max(0, cur-d.replicas))
	default:
		out.State, out.Message = sources.RolloutComplete, fmt.Sprintf("deployment %q successfully rolled out", d.name)
	}
	hist := slices.Clone(d.history)
	sort.Slice(hist, func(i, j int) bool { return hist[i].num > hist[j].num })
	for _, r := range hist {
		rv := sources.Revision{Number: r.num, ReplicaSet: r.rs, ChangeCause: r.cause, Images: []string{r.tmpl.Image}, CreatedAt: r.created}
		for _, ps := range [][]pod{d.curPods, d.oldPods} {
			for _, p := range ps {
				if p.rev == r {
					rv.Replicas++
					rv.Ready++
				}
			}
		}
		if r == d.cur && rolling {
			rv.Replicas++
		}
		out.History = append(out.History, rv)
	}
	return out
}

// KubeSource is the demo's "kube" source: the production namespace's
// deployments. It also implements the ops RolloutController methods.
type KubeSource struct{ w *World }

// Name is "kube".
func (s *KubeSource) Name() string { return "kube" }

// Kind is sources.KindRollouts.
func (s *KubeSource) Kind() sources.Kind { return sources.KindRollouts }

// Fetch returns the deployments, sorted by namespace and name.
func (s *KubeSource) Fetch(ctx context.Context) (sources.Payload, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return nil, err
	}
	defer w.mu.Unlock()
	set := &sources.RolloutSet{Scripted: w.scripted(), Context: "demo"}
	for _, d := range w.deps {
		set.Deployments = append(set.Deployments, w.snapshotDeployment(d))
	}
	sort.Slice(set.Deployments, func(i, j int) bool { return set.Deployments[i].Key() < set.Deployments[j].Key() })
	return set, nil
}

// lookup finds a deployment, with the error the API server would give.
// The caller holds w.mu.
func (s *KubeSource) lookup(ctx context.Context, ns, name string) (*deployment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.w.sync()
	d := s.w.dep(name)
	if ns != namespace || d == nil {
		return nil, fmt.Errorf("deployments.apps %q not found in namespace %q", name, ns)
	}
	return d, nil
}

// GetDeployment returns the deployment as it is now, history included.
func (s *KubeSource) GetDeployment(ctx context.Context, ns, name string) (sources.Deployment, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	d, err := s.lookup(ctx, ns, name)
	if err != nil {
		return sources.Deployment{}, err
	}
	return s.w.snapshotDeployment(d), nil
}

// target resolves toRevision (0 = previous) like kubectl rollout undo.
func undoTarget(d *deployment, to int64) (*revision, error) {
	if d.paused {
		return nil, fmt.Errorf("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/%s' and try again", d.name)
	}
	var best *revision
	for _, r := range d.history {
		switch {
		case to == 0 && r.num < d.cur.num && (best == nil || r.num > best.num):
			best = r
		case to != 0 && r.num == to:
			best = r
		}
	}
	switch {
	case best == nil && to == 0:
		return nil, fmt.Errorf("no rollout history found for deployment %q", d.name)
	case best == nil:
		return nil, fmt.Errorf("unable to find specified revision %d in history", to)
	case best == d.cur:
		return nil, fmt.Errorf("skipped rollback: revision %d is the current revision", to)
	}
	return best, nil
}

// PreviewUndo lists the pod-template changes rolling back would make and
// the (simulated) server-side dry run.
func (s *KubeSource) PreviewUndo(ctx context.Context, ns, name string, toRevision int64) (diff, dryRun []string, err error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	d, err := s.lookup(ctx, ns, name)
	if err != nil {
		return nil, nil, err
	}
	r, err := undoTarget(d, toRevision)
	if err != nil {
		return nil, nil, err
	}
	diff = templateDiff(d.cur.tmpl, r.tmpl)
	var top int64
	for _, h := range d.history {
		top = max(top, h.num)
	}
	dryRun = []string{
		"server dry run: ok (demo)",
		fmt.Sprintf("ReplicaSet %s (revision %d) becomes revision %d and scales to %d", r.rs, r.num, top+1, d.replicas),
	}
	return diff, dryRun, nil
}

func templateDiff(from, to podTemplate) []string {
	var out []string
	if from.Image != to.Image {
		out = append(out, fmt.Sprintf("image: %s → %s", from.Image, to.Image))
	}
	for _, e := range from.Env {
		if !slices.Contains(to.Env, e) {
			out = append(out, "env: -"+e)
		}
	}
	for _, e := range to.Env {
		if !slices.Contains(from.Env, e) {
			out = append(out, "env: +"+e)
		}
	}
	if from.CPU != to.CPU {
		out = append(out, fmt.Sprintf("resources: limits.cpu %s → %s", from.CPU, to.CPU))
	}
	if from.Memory != to.Memory {
		out = append(out, fmt.Sprintf("resources: limits.memory %s → %s", from.Memory, to.Memory))
	}
	if from.RestartedAt != to.RestartedAt {
		out = append(out, fmt.Sprintf("annotation kubectl.kubernetes.io/restartedAt: %q → %q", from.RestartedAt, to.RestartedAt))
	}
	if len(out) == 0 {
		out = []string{"pod template unchanged"}
	}
	return out
}

// Undo rolls back like kubectl rollout undo --to-revision: the target's
// ReplicaSet becomes the newest revision and the rollout starts.
func (s *KubeSource) Undo(ctx context.Context, ns, name string, toRevision int64) error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	d, err := s.lookup(ctx, ns, name)
	if err != nil {
		return err
	}
	r, err := undoTarget(d, toRevision)
	if err != nil {
		return err
	}
	s.w.rollTo(d, r)
	return nil
}

// Restart replaces every pod like kubectl rollout restart: a new template
// (restartedAt) and so a new revision with the same change-cause.
func (s *KubeSource) Restart(ctx context.Context, ns, name string, at time.Time) error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	d, err := s.lookup(ctx, ns, name)
	if err != nil {
		return err
	}
	if d.paused {
		return fmt.Errorf("deployments.apps %q can't restart paused deployment (run rollout resume first)", name)
	}
	tmpl := d.cur.tmpl
	tmpl.Env = slices.Clone(tmpl.Env)
	tmpl.RestartedAt = at.UTC().Format(time.RFC3339)
	s.w.apply(d, tmpl, d.cur.cause)
	return nil
}

// Scale sets spec.replicas; pods come and go over the following seconds.
func (s *KubeSource) Scale(ctx context.Context, ns, name string, replicas int32) error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	d, err := s.lookup(ctx, ns, name)
	if err != nil {
		return err
	}
	if replicas < 0 {
		return fmt.Errorf("invalid replicas %d: must be non-negative", replicas)
	}
	if replicas == d.replicas {
		return nil
	}
	if int32(len(d.curPods)) >= d.replicas {
		d.nextStep = s.w.tick + podStep/2
	}
	d.replicas = replicas
	d.generation++
	d.resourceVersion++
	return nil
}

// SetPaused pauses or resumes the rollout. A template change made while
// paused rolls out on resume.
func (s *KubeSource) SetPaused(ctx context.Context, ns, name string, paused bool) error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	d, err := s.lookup(ctx, ns, name)
	if err != nil {
		return err
	}
	if d.paused == paused {
		return nil
	}
	d.paused = paused
	d.generation++
	d.resourceVersion++
	if !paused && d.pending != nil {
		tmpl, cause := *d.pending, d.pendingCause
		d.pending = nil
		s.w.apply(d, tmpl, cause)
	} else if !paused {
		d.nextStep = s.w.tick + podStep
	}
	return nil
}
