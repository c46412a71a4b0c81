package kube

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	"k8s.io/client-go/tools/cache"

	"flightdeck/internal/redact"
	"flightdeck/sources"
)

// Liveness probing. Informers recover by themselves (they relist with
// backoff, also after 410 Gone), but they are silent about some outages:
// client-go's reflector retries a watch that gets "connection refused"
// without telling the watch error handler, and a relist that finds nothing
// new emits no event. So Run asks the API server itself, every
// healthInterval while healthy and every probeInterval while in error (two
// one-item lists: a few hundred bytes).
const (
	healthInterval = 10 * time.Second
	probeInterval  = 2 * time.Second
)

// informerPair is the two informers of one namespace (or of all namespaces).
type informerPair struct {
	ns   string
	deps cache.SharedIndexInformer
	rss  cache.SharedIndexInformer
}

// runState is shared between informer callbacks and the Run loop.
type runState struct {
	mu      sync.Mutex
	pending error // latest watch/list error not yet published
	kick    chan struct{}
}

func (r *runState) notify() {
	select {
	case r.kick <- struct{}{}:
	default: // a kick is already pending: this change coalesces into it
	}
}

func (r *runState) setErr(err error) {
	r.mu.Lock()
	r.pending = err
	r.mu.Unlock()
	r.notify()
}

func (r *runState) takeErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.pending
	r.pending = nil
	return err
}

// Run watches Deployments and ReplicaSets with informers and publishes a
// fresh RolloutSet after every change, at most one per minGap (bursts
// coalesce). API failures are published as errors (the Hub keeps the last
// good data); the informers relist by themselves, on 410 Gone and watch
// expiry too, and the next successful snapshot clears the error. RBAC is
// re-checked every permInterval, not per event. Run returns when ctx ends.
func (s *Source) Run(ctx context.Context, publish func(sources.Payload, error)) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	st := &runState{kick: make(chan struct{}, 1)}
	pairs := s.informers(st)
	evidence := s.evidenceInformers(st)
	// Evidence informers run beside the others but are not waited for:
	// without RBAC for pods or events they never sync (see evidence.go).
	for _, e := range evidence {
		for _, inf := range []cache.SharedIndexInformer{e.pods, e.events} {
			wg.Add(1)
			go func() { defer wg.Done(); inf.Run(ctx.Done()) }()
		}
	}

	var synced []cache.InformerSynced
	for _, p := range pairs {
		for _, inf := range []cache.SharedIndexInformer{p.deps, p.rss} {
			synced = append(synced, inf.HasSynced)
			wg.Add(1)
			go func() { defer wg.Done(); inf.Run(ctx.Done()) }()
		}
	}
	// The first snapshot goes out once every cache is filled; an empty
	// namespace produces no event, so the sync itself kicks.
	wg.Add(1)
	go func() {
		defer wg.Done()
		if cache.WaitForCacheSync(ctx.Done(), synced...) {
			st.notify()
		}
	}()
	// Permissions: once the caches are filled (with all namespaces watched,
	// the cache says which namespaces to review), then every permInterval,
	// off the publish path.
	wg.Add(1)
	go func() {
		defer wg.Done()
		if !cache.WaitForCacheSync(ctx.Done(), synced...) {
			return
		}
		t := time.NewTicker(s.permInterval)
		defer t.Stop()
		for {
			deps, _ := s.cached(pairs)
			s.refreshPermissions(ctx, nsOf(deps))
			st.notify()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()

	health := time.NewTimer(healthInterval)
	defer health.Stop()
	var (
		lastPub time.Time
		inError bool
		isSync  bool
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-st.kick:
		case <-health.C:
			err := s.probe(ctx)
			if err != nil || inError {
				health.Reset(probeInterval)
			} else {
				health.Reset(healthInterval)
			}
			if err == nil && !inError {
				continue // healthy and nothing changed: nothing to publish
			}
			if err != nil {
				st.setErr(err)
			}
			// err == nil while in error: the API answers again; publish
			// the cache so the pane clears the error.
		}
		if gap := s.minGap - time.Since(lastPub); gap > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(gap):
			}
			// Everything that happened during the gap is in this snapshot.
			select {
			case <-st.kick:
			default:
			}
		}
		lastPub = time.Now()
		if err := st.takeErr(); err != nil {
			if !inError {
				health.Reset(probeInterval)
			}
			inError = true
			publish(nil, err)
			continue
		}
		if !isSync {
			if isSync = allSynced(synced); !isSync {
				continue
			}
		}
		deps, rss := s.cached(pairs)
		if inError {
			health.Reset(healthInterval)
		}
		inError = false
		pods, evs := cachedEvidence(evidence)
		publish(s.snapshot(deps, rss, pods, evs), nil)
	}
}

func allSynced(fs []cache.InformerSynced) bool {
	for _, f := range fs {
		if !f() {
			return false
		}
	}
	return true
}

// probe checks that the API server answers both lists the informers need;
// the error is ready for the status bar.
func (s *Source) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ns := s.namespaces[0]
	if _, err := s.cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{Limit: 1, LabelSelector: s.opts.Selector}); err != nil {
		return apiError("list deployments", ns, err)
	}
	if _, err := s.cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return apiError("list replicasets", ns, err)
	}
	return nil
}

// informers builds, per namespace, a Deployment informer (label selector
// applied) and a ReplicaSet informer (unfiltered: RS labels are the pod
// template's), both with stripTransform and a watch error handler that
// reports real failures but not routine watch expiry.
func (s *Source) informers(st *runState) []informerPair {
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { st.notify() },
		UpdateFunc: func(any, any) { st.notify() },
		DeleteFunc: func(any) { st.notify() },
	}
	// ReplicaSets also tell when one is reused by a rollback.
	rsHandler := cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { st.notify() },
		UpdateFunc: func(old, cur any) {
			o, _ := old.(*rsInfo)
			c, _ := cur.(*rsInfo)
			s.noteRevision(o, c)
			st.notify()
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if o, ok := obj.(*rsInfo); ok {
				s.noteRevision(o, nil)
			}
			st.notify()
		},
	}
	selector := s.opts.Selector
	pairs := make([]informerPair, 0, len(s.namespaces))
	for _, ns := range s.namespaces {
		p := informerPair{ns: ns}
		// Resync 0: periodic resync re-delivers the cache to handlers and
		// would publish identical snapshots for nothing.
		p.deps = appsinformers.NewFilteredDeploymentInformer(s.cs, ns, 0, cache.Indexers{},
			func(o *metav1.ListOptions) { o.LabelSelector = selector })
		p.rss = appsinformers.NewFilteredReplicaSetInformer(s.cs, ns, 0, cache.Indexers{}, nil)
		for what, inf := range map[string]cache.SharedIndexInformer{"deployments": p.deps, "replicasets": p.rss} {
			_ = inf.SetTransform(stripTransform)
			_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
				if routineWatchEnd(err) {
					s.log.Debug("watch ended; relisting", "resource", what, "namespace", ns, "err", redact.Error(err))
					return
				}
				s.log.Warn("watch failed", "resource", what, "namespace", ns, "err", redact.Error(err))
				st.setErr(apiError("watch "+what, ns, err))
			})
			if inf == p.rss {
				_, _ = inf.AddEventHandler(rsHandler)
			} else {
				_, _ = inf.AddEventHandler(handler)
			}
		}
		pairs = append(pairs, p)
	}
	return pairs
}

// routineWatchEnd is a watch that ended normally: a closed stream or an
// expired resourceVersion (410 Gone). The reflector relists; nothing to show.
func routineWatchEnd(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
}

// cached reads the informer stores. The objects are the infos made by
// stripTransform and are never mutated, so they can be used without copying.
func (s *Source) cached(pairs []informerPair) ([]*depInfo, []*rsInfo) {
	var deps []*depInfo
	var rss []*rsInfo
	for _, p := range pairs {
		for _, o := range p.deps.GetStore().List() {
			if d, ok := o.(*depInfo); ok {
				deps = append(deps, d)
			}
		}
		for _, o := range p.rss.GetStore().List() {
			if rs, ok := o.(*rsInfo); ok {
				rss = append(rss, rs)
			}
		}
	}
	return deps, rss
}
