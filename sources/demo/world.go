// Package demo is flightdeck's built-in demo world (`flightdeck --demo`): an
// in-process simulation of NudgeCampaign running a scripted incident that
// unfolds over a few minutes and loops, behind the same Source and capability
// interfaces the real backends implement. Nothing here talks to a server.
//
// The world advances lazily from the injected clock, one simulated second at
// a time, whenever a source is fetched or an action is taken; it is
// deterministic given Options.Seed and the clock, and safe for concurrent use.
//
// Script, in simulated seconds since the loop began (Options.Speed scales
// them against the clock):
//
//	  0  calm: production/nudgecampaign-api revision 41 (nudgecampaign/api:v5.0.0)
//	     3/3 ready, ~30 client backends, SLOs ok; HighCPUUsage pending 8–44 s
//	 30  deploy: revision 42, nudgecampaign/api:v5.1.0, a new pod every 6 s,
//	     complete at ~48 s; each replaced pod's DB connections are replaced too
//	~40  error rate climbs from ~0.07% towards 8% over about a minute
//	~55  HighErrorRate pending, firing 12 s later; ~70 availability SLO pages,
//	     latency SLO opens a ticket; ~95 SlowResponseTime pending
//	110  an API connection runs UPDATE campaigns … WHERE id = 4711 and stays
//	     idle in transaction: the root blocker. From 116 a worker queues
//	     behind it (Lock/transactionid), then API and worker backends queue
//	     behind that one (Lock/tuple, transactionid, tuple: 3 levels) while
//	     the API opens new connections as requests time out and retry
//	~175 connections > 80% of usable: DatabaseConnectionPoolExhausted
//	     pending, firing 10 s later; connections level off at 91 of 97
//	290  idle_in_transaction_session_timeout (3 min) ends the root blocker
//	     if nobody did
//	300  the pipeline rolls back to v5.0.0 (revision 43) if nobody did
//	     then recovery; a calm minute after everything resolved (at the
//	     latest at 450 s) the world starts over, calm, actions forgotten
//	     but silences kept until they end.
//
// Every payload says which run of the script it shows (sources.Script):
// the recorder writes each restart, with actor "demo", and attributes the
// changes it makes to it; the cockpit says in the status bar what the
// restart undid. A learner can tell what they caused from what the script
// did.
//
// Rolling the API back or restarting it also ends the root blocker: its
// connection belongs to a pod that goes away.
//
// Metrics use a compressed clock: one simulated second is one minute of
// metric time, so the 5m burn window is 5 s, 1h is a minute and 6h six
// minutes; the 1d and 3d windows are seeded with a realistic background.
package demo

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"flightdeck/sources"
)

// Script timeline and pacing, in simulated seconds since the loop began.
const (
	deployAt       = 30
	podStep        = 6 // a new pod becomes ready every podStep seconds
	pileUpAt       = 110
	idleTxTimeout  = 180 // idle_in_transaction_session_timeout
	autoRollbackAt = 300
	maxLoop        = 450
	calmBeforeLoop = 60
	rampUpPerSec   = 1.0 / 60
	rampDownPerSec = 1.0 / 40
)

// Images of the API: the good one and the one the script deploys.
const (
	goodImage = "nudgecampaign/api:v5.0.0"
	badImage  = "nudgecampaign/api:v5.1.0"
)

// Options configure a World.
type Options struct {
	// Now is the clock the world advances from; nil means time.Now.
	Now func() time.Time
	// Seed makes the world's randomness (pids, query mix, traffic noise)
	// reproducible.
	Seed int64
	// Speed is how many simulated seconds pass per second of the clock;
	// 0 or less means 1 (real time).
	Speed float64
}

// World is the simulated NudgeCampaign: one Postgres server, a Kubernetes
// namespace, Prometheus SLOs and Alertmanager, sharing one clock and script.
type World struct {
	mu      sync.Mutex
	now     func() time.Time
	speed   float64
	seed    int64
	origin  time.Time
	wallNow time.Time

	tick      int64 // simulated seconds since origin, processed up to here
	loop      uint64
	loopStart int64
	rng       *rand.Rand // the loop's randomness: traffic, query mix
	ids       *rand.Rand // the world's: pids, pod IPs, silence ids
	nextPID   int32
	sysPIDs   []int32

	backends      []*backend
	root          *backend
	extrasSpawned int

	deps   []*deployment
	nextIP map[string]int
	// kevents are the warning events of this loop (evidence.go).
	kevents []*kubeEvent

	met       metrics
	maint     pgMaint // what the operator's Postgres maintenance changed
	intensity float64 // 0..1: how badly the bad build is failing

	rules         []*rule
	silences      []*silence
	resolvedSince int64 // tick since when all is well again, -1 if not

	prom *SLOSource
	am   *AlertSource
	pg   *PostgresSource
	kube *KubeSource
	aws  *AWSSource
}

// NewWorld returns a world at the start of its first loop, calm.
func NewWorld(opts Options) *World {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Speed <= 0 {
		opts.Speed = 1
	}
	w := &World{now: opts.Now, speed: opts.Speed, seed: opts.Seed}
	w.origin = w.now()
	w.wallNow = w.origin
	w.ids = rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed1d5))
	w.nextPID = 11000 + int32(w.ids.IntN(4000))
	for range 6 {
		w.sysPIDs = append(w.sysPIDs, int32(1040+w.ids.IntN(60)+len(w.sysPIDs)*61))
	}
	w.prom = &SLOSource{w: w}
	w.am = &AlertSource{w: w}
	w.pg = &PostgresSource{w: w}
	w.kube = &KubeSource{w: w}
	w.aws = &AWSSource{w: w}
	w.resetLoop(0)
	return w
}

// Sources returns the world's sources, in the order prom, am, pg main,
// kube, aws, ready to be added to a Hub.
func (w *World) Sources() []sources.Source {
	return []sources.Source{w.prom, w.am, w.pg, w.kube, w.aws}
}

// AWS is the "aws" source (see aws.go); it also takes the AWS actions.
func (w *World) AWS() *AWSSource { return w.aws }

// Postgres is the "pg main" source; it also signals backends.
func (w *World) Postgres() *PostgresSource { return w.pg }

// Rollouts is the "kube" source; it also controls rollouts.
func (w *World) Rollouts() *KubeSource { return w.kube }

// Alerts is the "am" source; it also manages silences.
func (w *World) Alerts() *AlertSource { return w.am }

// SLOs is the "prom" source.
func (w *World) SLOs() *SLOSource { return w.prom }

// tickAt is the simulated second the clock reading now falls in.
func (w *World) tickAt(now time.Time) int64 {
	d := now.Sub(w.origin)
	if d < 0 {
		return 0
	}
	return int64(float64(d) / float64(time.Second) * w.speed)
}

// wall is the clock reading at which simulated second tick began.
func (w *World) wall(tick int64) time.Time {
	return w.origin.Add(time.Duration(float64(tick) * float64(time.Second) / w.speed))
}

// at is the clock reading of the current tick plus a few milliseconds of
// jitter, for timestamps that should not all fall on the second.
func (w *World) at() time.Time {
	return w.wall(w.tick).Add(time.Duration(w.rng.IntN(900)+3) * time.Millisecond)
}

// lockSynced is the prologue of every call into the world: it refuses a
// done ctx, takes w.mu and advances the world to the clock, so that every
// answer reflects the same instant. On success the caller owns w.mu and
// defers its Unlock.
func (w *World) lockSynced(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	w.sync()
	return nil
}

// sync advances the world to the clock. The caller holds w.mu.
func (w *World) sync() {
	now := w.now()
	if now.After(w.wallNow) {
		w.wallNow = now
	}
	target := w.tickAt(now)
	if target-w.tick > 4*maxLoop {
		// Suspended laptop, or a test jumping days: start afresh rather
		// than replaying hours of calm.
		w.tick = target
		w.loop++
		w.resetLoop(target)
		return
	}
	for w.tick < target {
		w.tick++
		w.step()
	}
}

// t is the simulated second within the current loop.
func (w *World) t() int64 { return w.tick - w.loopStart }

func (w *World) step() {
	t := w.t()
	if t >= maxLoop || (w.resolvedSince >= 0 && w.tick-w.resolvedSince >= calmBeforeLoop) {
		w.loop++
		w.resetLoop(w.tick)
		return
	}
	w.scriptKube(t)
	for _, d := range w.deps {
		w.stepDeployment(d)
	}
	w.stepEvidence()
	w.stepIntensity()
	w.stepPG(t)
	w.stepMetrics()
	w.stepAlerts(t)
	w.checkResolved(t)
}

// resetLoop puts the world back to calm at tick. Every action's effect is
// forgotten but the silences: someone who silenced an alert for an hour
// expects it silenced for the hour, whichever run of the script it fires
// in (an alert's fingerprint is the same in every run). Expired silences
// go. Pids keep increasing so none is reused.
func (w *World) resetLoop(tick int64) {
	kept := slices.DeleteFunc(w.silences, func(s *silence) bool { return s.state(w.wall(tick)) == "expired" })
	w.loopStart = tick
	w.rng = rand.New(rand.NewPCG(uint64(w.seed), w.loop+1))
	w.intensity = 0
	w.resolvedSince = -1
	w.silences = nil
	w.maint = pgMaint{}
	w.root = nil
	w.extrasSpawned = 0
	w.backends = nil
	w.initKube()
	w.initPG()
	w.initMetrics()
	w.initAlerts()
	w.silences = kept
}

// resetNote says what a restart of the script undid and kept, for the
// status bar and the timeline: short, since the status bar is one line at
// 80 columns. Undone are rollbacks, restarts, scaling, ended backends and
// AWS changes; silences last until they end.
const resetNote = "earlier actions undone, silences kept"

// scripted is the run of the script the world is in, for every payload.
// The caller holds w.mu.
func (w *World) scripted() sources.Scripted {
	return sources.Scripted{Script: &sources.Script{Loop: w.loop + 1, Since: w.wall(w.loopStart), Reset: resetNote}}
}

// stepIntensity moves the failure intensity towards the share of API pods
// running the bad build: it builds up over a minute (the batch import queue
// grows), and drains a little faster once good pods take over.
func (w *World) stepIntensity() {
	bad, total := w.apiPods()
	target := 0.0
	if total > 0 {
		target = float64(bad) / float64(total)
	}
	switch {
	case w.intensity < target:
		w.intensity = min(target, w.intensity+rampUpPerSec)
	case w.intensity > target:
		w.intensity = max(target, w.intensity-rampDownPerSec)
	}
}

// checkResolved notes when the incident is over, so the loop can restart a
// calm minute later.
func (w *World) checkResolved(t int64) {
	ok := t > deployAt+podStep
	if ok {
		bad, total := w.apiPods()
		ok = bad == 0 && total > 0 && w.intensity < 0.01 && w.lockWaiters() == 0 &&
			!w.incidentAlertActive() && float64(w.clients()) <= 0.8*float64(usableConns)
	}
	switch {
	case !ok:
		w.resolvedSince = -1
	case w.resolvedSince < 0:
		w.resolvedSince = w.tick
	}
}
