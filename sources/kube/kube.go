// Package kube is the Rollouts source: Kubernetes Deployments with their
// revision history (owned ReplicaSets) and rollout status, watched through
// client-go informers, and the rollout actions the ops Executor may take
// (undo, restart, scale, pause/resume), each done the way kubectl does it.
//
// The package satisfies ops.RolloutController structurally; it never imports
// ops (arrows only go downward, see DESIGN.md).
package kube

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// AllNamespaces in Options.Namespaces watches every namespace (needs
// cluster-wide list/watch rights).
const AllNamespaces = "*"

// Options configure a Source.
type Options struct {
	// Kubeconfig is an explicit kubeconfig path; empty follows the standard
	// loading rules ($KUBECONFIG, ~/.kube/config, then in-cluster config).
	Kubeconfig string
	// Context overrides the kubeconfig's current context.
	Context string
	// Namespaces to watch. Empty means the context's namespace (as kubectl
	// does, "default" when unset); "*" (AllNamespaces) means every namespace.
	Namespaces []string
	// Selector is a label selector applied to Deployments ("app=api").
	// ReplicaSets are not filtered by it: their labels are the pod template's,
	// not the Deployment's, and history needs every owned ReplicaSet.
	Selector string
	// ProtectedNamespaces are passed through to RolloutSet.Protected.
	ProtectedNamespaces []string
	// Log receives diagnostics (and client-go's klog output, which must never
	// reach the terminal the UI owns). Nil discards.
	Log *slog.Logger
	// Now is the clock; nil means time.Now. Accepted for symmetry with the
	// other sources; nothing reads it yet: snapshots carry the API server's
	// timestamps and actions get their time from the Executor.
	Now func() time.Time
}

// Source reads Deployments and ReplicaSets and acts on Deployments.
type Source struct {
	opts       Options
	cs         kubernetes.Interface
	context    string
	namespaces []string // "" means all namespaces
	log        *slog.Logger
	now        func() time.Time

	// permInterval is how often Run re-checks RBAC (SelfSubjectAccessReview);
	// a var so tests can shorten it.
	permInterval time.Duration
	// minGap is the shortest time between two publishes: bursts of informer
	// events (a rollout touches many objects) coalesce into one snapshot.
	minGap time.Duration

	mu     sync.Mutex
	denied map[string]sources.Denied
	user   string
	// revised records when this process saw an existing ReplicaSet take a
	// newer revision number: a rollback reuses the old ReplicaSet, whose
	// creation time would make the rollback look days old.
	revised map[types.UID]time.Time
}

var klogOnce sync.Once

// New builds a Source from kubeconfig (standard loading rules) without
// contacting the API server.
func New(o Options) (*Source, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if _, serr := os.Stat(o.Kubeconfig); o.Kubeconfig != "" && errors.Is(serr, fs.ErrNotExist) {
		err = clientcmd.ErrEmptyConfig // the file named in the config is missing: say so the same way
	}
	if clientcmd.IsEmptyConfig(err) {
		// client-go's own advice (KUBERNETES_MASTER) is for kubectl of
		// old; say where we looked and what sets a kubeconfig.
		return nil, noKubeconfig(rules.GetLoadingPrecedence(), o.Kubeconfig != "")
	}
	if err != nil {
		// The message quotes names from the kubeconfig (a context that
		// does not exist): outside text, like the file itself.
		return nil, fmt.Errorf("kubeconfig: %s", outside(err))
	}
	ctxName := o.Context
	if ctxName == "" {
		if raw, err := cc.RawConfig(); err == nil && raw.CurrentContext != "" {
			ctxName = raw.CurrentContext
		} else {
			ctxName = "in-cluster"
		}
	}
	if len(o.Namespaces) == 0 {
		// Like kubectl: the context's namespace, "default" when unset.
		ns, _, err := cc.Namespace()
		if err != nil || ns == "" {
			ns = metav1.NamespaceDefault
		}
		ns = sanitize.Text(ns) // from the kubeconfig: outside text
		o.Namespaces = []string{ns}
	}
	s, err := NewForConfig(cfg, o)
	if err != nil {
		return nil, err
	}
	// A downloaded kubeconfig is outside text: its context name reaches
	// the Rollouts title.
	s.context = sanitize.Text(ctxName)
	return s, nil
}

// noKubeconfig explains an empty kubeconfig: the paths tried (the one
// configured, $KUBECONFIG's list, or the default ~/.kube/config), what was
// wrong with each, and what sets one. Paths come from the environment and
// the config: outside text.
func noKubeconfig(tried []string, explicit bool) error {
	var where string
	switch {
	case explicit:
		where = "kubernetes.kubeconfig names"
	case os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
		where = "$KUBECONFIG names"
	default:
		where = "$KUBECONFIG is unset, so tried the default"
	}
	var paths []string
	for _, p := range tried {
		state := "has no cluster or context"
		if st, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			state = "does not exist"
		} else if err != nil {
			state = "unreadable"
		} else if st.IsDir() {
			state = "is a directory"
		}
		paths = append(paths, sanitize.Text(p)+" ("+state+")")
	}
	if len(paths) == 0 {
		paths = []string{"no path"}
	}
	return fmt.Errorf("no kubeconfig found: %s %s, and flightdeck is not running inside a cluster; "+
		"set kubernetes.kubeconfig in flightdeck's config (or $KUBECONFIG) to a kubeconfig file, or remove the kubernetes: section",
		where, strings.Join(paths, ", "))
}

// NewForConfig builds a Source from a rest.Config (tests, embedding). The
// namespaces are taken from o.Namespaces as given ("*" = all; empty =
// "default").
func NewForConfig(cfg *rest.Config, o Options) (*Source, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "flightdeck"
	// Defaults (5 qps) are for controllers; an operator's click must not queue.
	cfg.QPS, cfg.Burst = 20, 40
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %s", outside(err))
	}
	s := newSource(cs, o)
	s.context = sanitize.Text(redact.URL(cfg.Host))
	return s, nil
}

func newSource(cs kubernetes.Interface, o Options) *Source {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// client-go logs through klog to stderr by default, which would scribble
	// over the TUI. Route it to our logger once per process.
	klogOnce.Do(func() { klog.SetSlogLogger(log.With("component", "client-go")) })
	now := o.Now
	if now == nil {
		now = time.Now
	}
	nss := slices.Clone(o.Namespaces)
	if len(nss) == 0 {
		nss = []string{metav1.NamespaceDefault}
	}
	if slices.Contains(nss, AllNamespaces) {
		nss = []string{metav1.NamespaceAll}
	}
	slices.Sort(nss)
	nss = slices.Compact(nss)
	return &Source{
		opts:         o,
		cs:           cs,
		namespaces:   nss,
		log:          log,
		now:          now,
		permInterval: 3 * time.Minute,
		minGap:       100 * time.Millisecond,
	}
}

// Name is "kube".
func (s *Source) Name() string { return "kube" }

// Kind is sources.KindRollouts.
func (s *Source) Kind() sources.Kind { return sources.KindRollouts }

// Context is the kubeconfig context (or API server URL) the source talks to.
func (s *Source) Context() string { return s.context }

// Namespaces are the namespaces watched; "" means all.
func (s *Source) Namespaces() []string { return slices.Clone(s.namespaces) }

// Fetch lists Deployments and ReplicaSets once and checks permissions; used
// by `config check` and tests. Run is the live path.
func (s *Source) Fetch(ctx context.Context) (sources.Payload, error) {
	var deps []*depInfo
	var rss []*rsInfo
	for _, ns := range s.namespaces {
		dl, err := s.cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: s.opts.Selector})
		if err != nil {
			return nil, apiError("list deployments", ns, err)
		}
		for i := range dl.Items {
			deps = append(deps, newDepInfo(&dl.Items[i]))
		}
		rl, err := s.cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, apiError("list replicasets", ns, err)
		}
		for i := range rl.Items {
			rss = append(rss, newRSInfo(&rl.Items[i]))
		}
	}
	s.refreshPermissions(ctx, nsOf(deps))
	pods, evs := s.fetchEvidence(ctx)
	return s.snapshot(deps, rss, pods, evs), nil
}

// snapshot assembles the payload from cached infos (with the pods' and
// events' evidence) plus the last known permissions.
func (s *Source) snapshot(deps []*depInfo, rss []*rsInfo, pods []*podInfo, evs []*eventInfo) *sources.RolloutSet {
	set := buildSet(deps, rss, s.revisedAt)
	attachEvidence(set, rss, pods, evs)
	set.Context = s.context
	set.Protected = slices.Clone(s.opts.ProtectedNamespaces)
	s.mu.Lock()
	if len(s.denied) > 0 {
		set.Denied = make(map[string]sources.Denied, len(s.denied))
		for ns, d := range s.denied {
			set.Denied[ns] = d // never mutated after being stored
		}
	}
	s.mu.Unlock()
	return set
}

// revisedAt is when rs was seen becoming a newer revision (zero if never).
func (s *Source) revisedAt(rs types.UID) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revised[rs]
}

// noteRevision records a ReplicaSet reused for a newer revision (a rollback)
// and forgets deleted ones.
func (s *Source) noteRevision(old, cur *rsInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case cur == nil && old != nil:
		delete(s.revised, old.UID)
	case old != nil && cur != nil && old.ok && cur.ok && cur.rev.Number > old.rev.Number:
		if s.revised == nil {
			s.revised = map[types.UID]time.Time{}
		}
		s.revised[cur.UID] = s.now()
	}
}

// nsOf lists the namespaces of deps, sorted, for permission checks when all
// namespaces are watched.
func nsOf(deps []*depInfo) []string {
	seen := map[string]bool{}
	for _, d := range deps {
		seen[d.Namespace] = true
	}
	out := make([]string, 0, len(seen))
	for ns := range seen {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// apiError turns an API error into a short, sanitized one the status bar can
// show; 401/403 keep their meaning up front.
func apiError(op, ns string, err error) error {
	where := op
	if ns != "" {
		where += " in " + ns
	}
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: forbidden: %s", where, sanitize.Text(statusMessage(err)))
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: unauthorized (credentials rejected or expired): %s", where, sanitize.Text(statusMessage(err)))
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: timed out", where)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// The URL is long and repeats the request; the cause is what matters.
		return fmt.Errorf("%s: API server unreachable: %s", where, outside(ue.Err))
	}
	return fmt.Errorf("%s: %s", where, outside(err))
}

// outside is the message of an error that quotes outside text (the API
// server's, the kubeconfig's), sanitized and with URL secrets masked.
func outside(err error) string {
	return sanitize.Text(redact.Error(err).Error())
}

func statusMessage(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) && st.Status().Message != "" {
		return st.Status().Message
	}
	return err.Error()
}

// actionError is the error an action returns: a 403 reads "forbidden: …"
// first, because that is what the operator must act on (ask for RBAC), and it
// is never retried.
func actionError(what string, err error) error {
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("forbidden: %s", sanitize.Text(statusMessage(err)))
	}
	if apierrors.IsUnauthorized(err) {
		return fmt.Errorf("unauthorized: %s", sanitize.Text(statusMessage(err)))
	}
	return fmt.Errorf("%s: %s", what, strings.TrimSpace(outside(err)))
}
