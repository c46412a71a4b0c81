package ui

import (
	"strconv"
	"strings"
	"time"

	"flightdeck/sources"
)

// pgFilter is the parsed `/` expression of the Postgres pane. Every token
// must hold (AND): free text matches pid/user/app/state/query/client as a
// case-insensitive substring; user:, app:, db:, state:, wait: narrow one
// field; >10m or dur>10m keeps backends older than that; blocking and
// blocked keep the two sides of a lock pile-up.
type pgFilter struct {
	text                []string
	user, app, db, wait []string
	state               []string
	olderThan           time.Duration
	blocking, blocked   bool
}

func (f pgFilter) empty() bool {
	return len(f.text)+len(f.user)+len(f.app)+len(f.db)+len(f.wait)+len(f.state) == 0 &&
		f.olderThan == 0 && !f.blocking && !f.blocked
}

// stateAliases lets people type what they say out loud at 3 a.m.
var stateAliases = map[string]string{
	"idle-in-tx": "idle in transaction", "idle-tx": "idle in transaction", "iit": "idle in transaction",
	"idle-in-transaction": "idle in transaction", "aborted": "idle in transaction (aborted)",
}

func parsePGFilter(s string) pgFilter {
	var f pgFilter
	for _, tok := range strings.Fields(strings.ToLower(s)) {
		name, val, hasColon := strings.Cut(tok, ":")
		switch {
		case tok == "blocking":
			f.blocking = true
			continue
		case tok == "blocked":
			f.blocked = true
			continue
		case strings.HasPrefix(tok, ">") || strings.HasPrefix(tok, "dur>"):
			if d, err := parseDur(strings.TrimPrefix(strings.TrimPrefix(tok, "dur"), ">")); err == nil {
				f.olderThan = d
				continue
			}
		case hasColon && val != "":
			switch name {
			case "user":
				f.user = append(f.user, val)
				continue
			case "app":
				f.app = append(f.app, val)
				continue
			case "db":
				f.db = append(f.db, val)
				continue
			case "wait":
				f.wait = append(f.wait, val)
				continue
			case "state":
				if a, ok := stateAliases[val]; ok {
					val = a
				} else {
					val = strings.ReplaceAll(val, "-", " ")
				}
				f.state = append(f.state, val)
				continue
			}
		}
		f.text = append(f.text, tok)
	}
	return f
}

// parseDur accepts Go durations plus a d (days) suffix, like the config.
func parseDur(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.Atoi(n)
		return time.Duration(v) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

func containsFold(hay, needle string) bool {
	return strings.Contains(strings.ToLower(hay), needle)
}

func (f pgFilter) match(b *sources.Backend, age time.Duration, blocking, blocked bool) bool {
	if f.blocking && !blocking || f.blocked && !blocked {
		return false
	}
	if f.olderThan > 0 && age <= f.olderThan {
		return false
	}
	for _, v := range f.user {
		if !containsFold(b.User, v) {
			return false
		}
	}
	for _, v := range f.app {
		if !containsFold(b.Application, v) {
			return false
		}
	}
	for _, v := range f.db {
		if !containsFold(b.Database, v) {
			return false
		}
	}
	for _, v := range f.wait {
		if !containsFold(b.WaitType+":"+b.WaitEvent, v) {
			return false
		}
	}
	for _, v := range f.state {
		if st := strings.ToLower(b.State); st != v && !(v != "idle" && strings.HasPrefix(st, v)) {
			return false
		}
	}
	for _, t := range f.text {
		if !(strings.Contains(strconv.Itoa(int(b.PID)), t) || containsFold(b.User, t) || containsFold(b.Application, t) ||
			containsFold(b.State, t) || containsFold(b.Query, t) || containsFold(b.ClientAddr, t)) {
			return false
		}
	}
	return true
}
