package together

import "strings"

// Actor is who acted, as the audit journal records it and every session
// reads it. It is written in one place (String) so that a served session,
// the local terminal and whatever reads the journal back agree on the
// form.
type Actor struct {
	// Name is the configured user a key belongs to, or user@host at the
	// local terminal; "" is written "unknown".
	Name string
	// Fingerprint is the SSH key's ("SHA256:…"), when there is one.
	Fingerprint string
	// Addr is where the person came from (the SSH client's host:port, or
	// the host of $SSH_CLIENT at the local terminal); "" on this machine.
	Addr string
	// Session is the served session's ID; "" for the local terminal.
	Session string
}

// String is the actor as the journal writes it:
// "alice (SHA256:…) from 10.0.0.5:53122, session 7f3a09c1",
// "oncall@bastion from 10.0.0.5", "oncall@laptop".
func (a Actor) String() string {
	var b strings.Builder
	b.WriteString(a.Name)
	if a.Name == "" {
		b.WriteString("unknown")
	}
	if a.Fingerprint != "" {
		b.WriteString(" (" + a.Fingerprint + ")")
	}
	if a.Addr != "" {
		b.WriteString(" from " + a.Addr)
	}
	if a.Session != "" {
		b.WriteString(", session " + a.Session)
	}
	return b.String()
}
