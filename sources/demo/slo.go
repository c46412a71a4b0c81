package demo

import (
	"context"
	"math"
	"time"

	"flightdeck/sources"
)

// The metric clock is compressed: one simulated second is one minute of
// metrics, so the multiwindow rules play out in minutes. The ring holds the
// longest burn window (3d) minute by minute; the rest of the 30-day SLO
// window is summarised by a constant background.
const (
	ringLen      = 72 * 60
	sloWindow    = 30 * 24 * time.Hour
	olderMinutes = 30*24*60 - ringLen
	reqPerMin    = 1200.0 // 20 requests per second
	// Background error and slow ratios.
	bgErr      = 0.0007
	bgSlow     = 0.047
	olderErr   = 0.00025
	olderSlow  = 0.040
	sparkLen   = 60
	sparkEvery = 3 // metric minutes per spark point
)

type metrics struct {
	req, errs, slow [ringLen]float64
	head            int   // next slot to write
	minute          int64 // metric minutes since origin, for the daily cycle
}

func (m *metrics) push(req, errs, slow float64) {
	m.req[m.head], m.errs[m.head], m.slow[m.head] = req, errs, slow
	m.head = (m.head + 1) % ringLen
	m.minute++
}

// sum adds up the n minutes that ended offset minutes ago.
func (m *metrics) sum(n, offset int) (req, errs, slow float64) {
	for i := offset; i < offset+n && i < ringLen; i++ {
		j := ((m.head-1-i)%ringLen + ringLen) % ringLen
		req += m.req[j]
		errs += m.errs[j]
		slow += m.slow[j]
	}
	return req, errs, slow
}

func (w *World) noise() float64 { return w.rng.Float64()*2 - 1 }

func (w *World) traffic() float64 {
	day := float64(w.met.minute%1440) / 1440
	return reqPerMin * (1 + 0.25*math.Sin(2*math.Pi*day)) * (1 + 0.04*w.noise())
}

// initMetrics seeds three days of history: a quiet background, a short
// error blip 40 hours ago and a slow spell 30 hours ago (so the latency
// SLO's 3d burn already sits just above 1x, as a team near its budget).
func (w *World) initMetrics() {
	w.met = metrics{minute: w.loopStart * 1}
	w.met.minute -= ringLen
	for i := range ringLen {
		age := ringLen - i
		req := w.traffic()
		e := bgErr * (1 + 0.3*w.noise())
		if age >= 2400 && age < 2425 {
			e = 0.02
		}
		s := bgSlow * (1 + 0.05*w.noise())
		if age >= 1800 && age < 2000 {
			s = 0.16
		}
		w.met.push(req, req*e, req*s)
	}
}

// stepMetrics records one metric minute of the API's traffic.
func (w *World) stepMetrics() {
	req := w.traffic()
	e := bgErr*(1+0.3*w.noise()) + 0.08*w.intensity
	if _, total := w.apiPods(); total == 0 {
		e = 0.98 // no pod behind the load balancer
	}
	s := bgSlow*(1+0.05*w.noise()) + 0.10*w.intensity + 0.06*min(1, float64(w.lockWaiters())/8)
	w.met.push(req, req*min(1, e), req*min(1, s))
}

func (w *World) sloStatus(name, desc string, objective float64, slow bool) sources.SLOStatus {
	bad := func(n, offset int) float64 {
		req, e, s := w.met.sum(n, offset)
		if req == 0 {
			return math.NaN()
		}
		if slow {
			return s / req
		}
		return e / req
	}
	budget := sources.ErrorBudget(objective)
	st := sources.SLOStatus{
		Name: name, Description: desc, Objective: objective, Window: sloWindow,
		Burn: make(map[time.Duration]float64, len(sources.BurnWindows)), SparkStep: sparkEvery * time.Minute,
	}
	for _, win := range sources.BurnWindows {
		st.Burn[win] = bad(int(win/time.Minute), 0) / budget
	}
	req, e, s := w.met.sum(ringLen, 0)
	older, olderRatio := olderMinutes*reqPerMin, olderErr
	if slow {
		e, olderRatio = s, olderSlow
	}
	st.SLI = 1 - (e+older*olderRatio)/(req+older)
	st.BudgetLeft = 1 - (1-st.SLI)/budget
	st.BudgetLeftTime = time.Duration(st.BudgetLeft * float64(sloWindow)).Round(time.Minute)
	st.Level, st.Reason = sources.EvaluateBurn(st.Burn)
	st.Spark = make([]float64, sparkLen)
	for i := range st.Spark {
		st.Spark[i] = bad(5, (sparkLen-1-i)*sparkEvery) / budget
	}
	return st
}

// SLOSource is the demo's "prom" source: the availability and latency SLOs
// computed from the simulated request history.
type SLOSource struct{ w *World }

// Name is "prom".
func (s *SLOSource) Name() string { return "prom" }

// Kind is sources.KindSLO.
func (s *SLOSource) Kind() sources.Kind { return sources.KindSLO }

// Fetch evaluates both SLOs over every burn window.
func (s *SLOSource) Fetch(ctx context.Context) (sources.Payload, error) {
	w := s.w
	if err := w.lockSynced(ctx); err != nil {
		return nil, err
	}
	defer w.mu.Unlock()
	const compressed = " — demo: metric time is compressed, 1 s = 1 min (5m window = 5 s, 1h = 1 min, 6h = 6 min)"
	return &sources.SLOSet{
		Scripted: w.scripted(),
		SLOs: []sources.SLOStatus{
			w.sloStatus("availability", "99.9% of API requests succeed (non-5xx), 30d"+compressed, 0.999, false),
			w.sloStatus("latency", "95% of API requests complete in < 200 ms, 30d"+compressed, 0.95, true),
		},
		Queries: 2 * (len(sources.BurnWindows) + 1),
	}, nil
}
