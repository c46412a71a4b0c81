package ops

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"
)

// Plan IDs must be unique across every Executor in the process (one per
// session) and across processes writing one journal (a local cockpit next
// to flightdeck serve): the time says when, a process-wide counter tells
// this process's plans apart, and a random per-process nonce tells
// processes apart.
var (
	planSeq   atomic.Uint64
	planNonce = newNonce()
)

func newNonce() string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; the counter
		// alone still keeps this process's IDs unique.
		return "000000"
	}
	return hex.EncodeToString(b[:])
}

// newPlanID is "20261123T030000-7-3fa9c1": when, which, whose process.
func newPlanID(now time.Time) string {
	return now.UTC().Format("20060102T150405") + "-" + strconv.FormatUint(planSeq.Add(1), 10) + "-" + planNonce
}
