package aws

import (
	"maps"
	"slices"
	"strings"

	"flightdeck/ui/kit"
)

// DrawKey is what the block depends on besides the List's state: what
// each source's estate kept from earlier snapshots. A region whose read
// fails keeps the rows of its last good read, so two sessions that saw
// different snapshots may hold different rows for the same latest one;
// each read's last success, error and first failure say which rows it
// holds (the time of a good read is its snapshot's).
func (p *Pane) DrawKey(b *strings.Builder) bool {
	for _, n := range slices.Sorted(maps.Keys(p.estates)) {
		e := p.estates[n]
		b.WriteString(n)
		b.WriteByte(0)
		kit.WriteInts(b, len(e.regions))
		for _, r := range e.regions {
			b.WriteString(r.name)
			b.WriteByte(0)
			kit.WriteFlags(b, r.rdsRead, r.ecsRead)
			for _, pt := range []*part{&r.rds, &r.ecs, &r.cw} {
				kit.WriteInts(b, int(pt.at.UnixNano()), int(pt.since.UnixNano()))
				b.WriteString(pt.err)
				b.WriteByte(0)
			}
		}
	}
	return true
}
