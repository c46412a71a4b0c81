package together

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"flightdeck/internal/pubsub"
	"flightdeck/internal/sanitize"
	"flightdeck/ops"
)

// Incident is the roles and the notes of the incident the sessions share:
// who commands (one operator at a time, taken or handed over) and the
// scribe's one-line notes, which anyone with a session adds, observers
// included. Every change is journaled with who made it (the timeline
// reads it from there) and published to every session's header.
type Incident struct {
	now     func() time.Time
	journal func(ops.Record) error

	mu     sync.Mutex
	state  IncidentState
	fanout *pubsub.Broker[IncidentState]
}

// IncidentState is what every session's header shows.
type IncidentState struct {
	// Commander is the user who commands, "" when nobody does yet.
	Commander string
	Since     time.Time
	// Notes are the latest notes, oldest first (at most KeepNotes).
	Notes []Note
}

// Note is one line on the timeline.
type Note struct {
	At   time.Time
	Who  string
	Text string
	// Announce asks for the note to go out (notify's "note" rule).
	Announce bool
}

// Bounds on notes.
const (
	// MaxNote is the longest note kept, in bytes (cut at a rune, "…").
	MaxNote = 280
	// KeepNotes is how many notes the header state carries; the journal
	// keeps them all.
	KeepNotes = 20
)

// Errors of Incident, for the status bar.
var (
	ErrNotOperator   = errors.New("only an operator can command")
	ErrNotCommander  = errors.New("only the commander can hand over")
	ErrEmptyNote     = errors.New("the note is empty")
	ErrSameCommander = errors.New("already commands")
)

// NewIncident returns an incident nobody commands yet, journaling through
// journal (ops.Journal.Append); nil journal keeps no record.
func NewIncident(journal func(ops.Record) error) *Incident {
	return &Incident{now: time.Now, journal: journal, fanout: pubsub.New(pubsub.Latest[IncidentState]())}
}

// State is the incident now.
func (i *Incident) State() IncidentState {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.copyLocked()
}

func (i *Incident) copyLocked() IncidentState {
	s := i.state
	s.Notes = append([]Note(nil), s.Notes...)
	return s
}

// TakeCommand makes who the commander (an operator only). The record
// is written first: a change the journal does not have did not happen.
func (i *Incident) TakeCommand(who ops.Signer, identity string, role Role) error {
	if !role.CanAct() {
		return ErrNotOperator
	}
	return i.setCommander(who, identity, who.Name, who.Name+" takes command")
}

// HandOver passes command from the commander to the user to, who must be
// an operator (the caller checks presence and role).
func (i *Incident) HandOver(from ops.Signer, identity, to string, toRole Role) error {
	if !toRole.CanAct() {
		return ErrNotOperator
	}
	i.mu.Lock()
	cur := i.state.Commander
	i.mu.Unlock()
	if cur != from.Name {
		return ErrNotCommander
	}
	return i.setCommander(from, identity, to, from.Name+" hands command to "+to)
}

func (i *Incident) setCommander(who ops.Signer, identity, commander, text string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.state.Commander == commander {
		return ErrSameCommander
	}
	now := i.now()
	rec := ops.Record{Time: now, Phase: "commander", Operator: identity, Details: []string{text},
		Session: &ops.SessionRecord{Who: who, Text: text, To: commander}}
	if err := i.write(rec); err != nil {
		return err
	}
	i.state.Commander, i.state.Since = commander, now
	i.fanout.Publish(i.copyLocked())
	return nil
}

// AddNote puts a one-line note by who on the timeline: sanitized (it is
// typed text that every session renders), cut to MaxNote.
func (i *Incident) AddNote(who ops.Signer, identity, text string, announce bool) (Note, error) {
	text = truncate(strings.Join(strings.Fields(sanitize.Text(text)), " "), MaxNote)
	if text == "" {
		return Note{}, ErrEmptyNote
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	n := Note{At: i.now(), Who: who.Name, Text: text, Announce: announce}
	phase := "note"
	if announce {
		phase = "note_announced"
	}
	rec := ops.Record{Time: n.At, Phase: phase, Operator: identity, Details: []string{text},
		Session: &ops.SessionRecord{Who: who, Text: text}}
	if err := i.write(rec); err != nil {
		return Note{}, err
	}
	i.state.Notes = append(i.state.Notes, n)
	if len(i.state.Notes) > KeepNotes {
		i.state.Notes = append([]Note(nil), i.state.Notes[len(i.state.Notes)-KeepNotes:]...)
	}
	i.fanout.Publish(i.copyLocked())
	return n, nil
}

func (i *Incident) write(rec ops.Record) error {
	if i.journal == nil {
		return nil
	}
	return i.journal(rec)
}

// Subscribe returns a follower whose first Next returns the state now.
func (i *Incident) Subscribe() *IncidentFollower {
	i.mu.Lock()
	defer i.mu.Unlock()
	return &IncidentFollower{sub: i.fanout.Subscribe(i.copyLocked())}
}

// IncidentFollower follows an Incident with latest-value semantics.
type IncidentFollower struct {
	sub *pubsub.Subscription[IncidentState]
}

// Next blocks until the state changed (the first call returns at once).
func (f *IncidentFollower) Next(ctx context.Context) (IncidentState, error) {
	states, err := f.sub.Next(ctx)
	if err != nil {
		return IncidentState{}, closedAs(err)
	}
	return states[len(states)-1], nil
}

// Close detaches the follower.
func (f *IncidentFollower) Close() { f.sub.Close() }
