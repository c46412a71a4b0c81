package aws

import (
	"time"

	"flightdeck/sources"
)

// part is one read of one region (RDS, ECS or CloudWatch) as the pane has
// seen it over successive snapshots: when it last succeeded, and since
// when it has been failing.
type part struct {
	at    time.Time // last good read, zero before any
	err   string    // the latest read's error, "" when it succeeded
	since time.Time // first failure of the current run of failures
}

func (pt *part) saw(err string, at time.Time) {
	if err == "" {
		*pt = part{at: at}
		return
	}
	if pt.err == "" {
		pt.since = at
	}
	pt.err = err
}

// region keeps a region's last good rows: a region whose read fails keeps
// showing what it last read, dimmed, with its error and age, while the
// other regions stay live.
type region struct {
	name             string
	rds, ecs, cw     part
	instances        []sources.RDSInstance
	clusters         []sources.RDSCluster
	services         []sources.ECSService
	rdsRead, ecsRead bool // rows came from a good read at least once
}

// estate is what one AWS source has shown the pane, region by region.
type estate struct {
	last    *sources.AWSSet // the payload merged last
	regions []*region       // in the order of the latest payload
	set     *sources.AWSSet // last, for its endpoint, credentials, warnings
}

// merge takes a new payload read at at. A payload already merged (the same
// snapshot again, or the last good data re-sent with a fetch error) changes
// nothing: the hub shares payloads by pointer.
func (e *estate) merge(set *sources.AWSSet, at time.Time) {
	if set == nil || set == e.last {
		return
	}
	e.last, e.set = set, set
	old := map[string]*region{}
	for _, r := range e.regions {
		old[r.name] = r
	}
	e.regions = e.regions[:0]
	for _, ar := range set.Regions {
		r := old[ar.Name]
		if r == nil {
			r = &region{name: ar.Name}
		}
		r.rds.saw(ar.RDSErr, at)
		if ar.RDSErr == "" {
			r.instances, r.clusters, r.rdsRead = nil, nil, true
			for _, in := range set.RDS {
				if in.Region == ar.Name {
					r.instances = append(r.instances, in)
				}
			}
			for _, c := range set.Clusters {
				if c.Region == ar.Name {
					r.clusters = append(r.clusters, c)
				}
			}
		}
		r.ecs.saw(ar.ECSErr, at)
		if ar.ECSErr == "" {
			r.services, r.ecsRead = nil, true
			for _, s := range set.ECS {
				if s.Region == ar.Name {
					r.services = append(r.services, s)
				}
			}
		}
		r.cw.saw(ar.MetricsErr, at)
		e.regions = append(e.regions, r)
	}
}

// cluster is the Aurora cluster region/id as last read, nil if unknown.
func (e *estate) cluster(regionName, id string) *sources.RDSCluster {
	for _, r := range e.regions {
		if r.name != regionName {
			continue
		}
		for i := range r.clusters {
			if r.clusters[i].ID == id {
				return &r.clusters[i]
			}
		}
	}
	return nil
}
