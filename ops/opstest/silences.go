package opstest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"flightdeck/sources"
)

// FakeSilences is an in-memory ops.Silencer: active alerts, matched as
// Alertmanager matches them (regexes anchored), and silences by id. New
// silences get ids sil-1, sil-2, ….
type FakeSilences struct {
	mu       sync.Mutex
	alerts   []sources.Alert
	silences map[string]sources.Silence
	created  int
}

// NewFakeSilences returns a fake with these active alerts and silences.
func NewFakeSilences(alerts []sources.Alert, silences ...sources.Silence) *FakeSilences {
	f := &FakeSilences{alerts: alerts, silences: map[string]sources.Silence{}}
	for _, s := range silences {
		f.silences[s.ID] = s
	}
	return f
}

// Silence is the silence with id as the fake has it now.
func (f *FakeSilences) Silence(id string) (sources.Silence, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.silences[id]
	return s, ok
}

// MatchingAlerts returns the alerts every matcher selects.
func (f *FakeSilences) MatchingAlerts(_ context.Context, ms []sources.Matcher) ([]sources.Alert, error) {
	res := make([]*regexp.Regexp, len(ms))
	for i, m := range ms {
		if m.IsRegex {
			re, err := regexp.Compile("^(?:" + m.Value + ")$")
			if err != nil {
				return nil, fmt.Errorf("bad matcher %s: %w", m.Name, err)
			}
			res[i] = re
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sources.Alert
	for _, a := range f.alerts {
		ok := true
		for i, m := range ms {
			v := a.Label(m.Name)
			hit := v == m.Value
			if res[i] != nil {
				hit = res[i].MatchString(v)
			}
			ok = ok && hit == m.IsEqual
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// CreateSilence stores s as active under a new id.
func (f *FakeSilences) CreateSilence(_ context.Context, s sources.Silence) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created++
	s.ID = fmt.Sprintf("sil-%d", f.created)
	s.State = "active"
	f.silences[s.ID] = s
	return s.ID, nil
}

// GetSilence reads one silence.
func (f *FakeSilences) GetSilence(_ context.Context, id string) (sources.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.silences[id]
	if !ok {
		return s, errors.New("silence " + id + " not found")
	}
	return s, nil
}

// ExpireSilence marks a silence expired.
func (f *FakeSilences) ExpireSilence(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.silences[id]
	if !ok {
		return errors.New("silence " + id + " not found")
	}
	s.State = "expired"
	f.silences[id] = s
	return nil
}
