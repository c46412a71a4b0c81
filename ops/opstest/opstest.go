// Package opstest holds in-memory fakes of the capabilities the ops
// handlers act through, for unit tests of ops, the UI and anything else that
// drives an Executor. The fakes keep the semantics that matter to the
// Executor's walls — a backend is pinned by pid + backend_start, a
// terminated backend is gone, matchers select alerts as Alertmanager's do —
// and record every write so a test can prove a refusal changed nothing.
// Claims about real systems are proven against the real servers instead.
package opstest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"flightdeck/ops"
)

// The fakes satisfy the capability interfaces ops declares.
var (
	_ ops.BackendSignaler   = (*FakeBackends)(nil)
	_ ops.RolloutController = (*FakeRollouts)(nil)
	_ ops.Silencer          = (*FakeSilences)(nil)
	_ ops.ECSController     = (*FakeAWS)(nil)
	_ ops.RDSController     = (*FakeAWS)(nil)
)

// Clock is a settable clock for Config.Now and ui.Options.Now, safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Journal opens an audit journal in a temporary directory of t, closed when
// the test ends, and returns it with its path (for ops.ReadJournal).
func Journal(t testing.TB) (*ops.Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	j, err := ops.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, path
}

// Records reads the journal at path, failing the test on error.
func Records(t testing.TB, path string) []ops.Record {
	t.Helper()
	recs, err := ops.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// UniquePlanIDs plans, all at once, perExecutor requests on each Executor
// (req(i) is the i-th request of an Executor), as the sessions of one world
// would, and fails t on an error or an ID minted twice. It returns how many
// distinct IDs were minted.
func UniquePlanIDs(t testing.TB, exs []*ops.Executor, perExecutor int, req func(i int) ops.Request) int {
	t.Helper()
	var (
		mu  sync.Mutex
		ids = map[string]bool{}
		wg  sync.WaitGroup
	)
	for _, ex := range exs {
		for i := range perExecutor {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := ex.Plan(context.Background(), req(i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("plan: %v", err)
				case ids[p.ID]:
					t.Errorf("plan id %s minted twice", p.ID)
				}
				ids[p.ID] = true
			}()
		}
	}
	wg.Wait()
	return len(ids)
}
