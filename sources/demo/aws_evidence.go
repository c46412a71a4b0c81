package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"flightdeck/sources"
)

// The demo estate's evidence: RDS events (last night's Multi-AZ failover,
// backups, and the events of the reboots and failovers the operator
// starts), an ECS service's tasks with the recently stopped ones (one
// OOMKilled in the last hour, the task the script's health-check failure
// replaces), and the services' CloudWatch Logs.

// rdsEvent adds an event to the front (newest first), within the bound.
func rdsEvent(evs []sources.RDSEvent, at time.Time, id, typ, category, msg string) []sources.RDSEvent {
	evs = slices.Insert(evs, 0, sources.RDSEvent{At: at, SourceID: id, SourceType: typ, Categories: []string{category}, Message: msg})
	return evs[:min(len(evs), sources.MaxRDSEvents)]
}

// seedEvidence is the estate's evidence at the start of a loop.
func (s *AWSSource) seedEvidence(ago func(h float64) time.Time) {
	for _, in := range s.insts {
		in.events = nil
		if in.id == prodDB {
			in.events = rdsEvent(in.events, ago(9.3), in.id, "db-instance", "failover", "Multi-AZ instance failover started.")
			in.events = rdsEvent(in.events, ago(9.29), in.id, "db-instance", "availability", "DB instance restarted")
			in.events = rdsEvent(in.events, ago(9.28), in.id, "db-instance", "failover", "Multi-AZ instance failover completed.")
			in.events = rdsEvent(in.events, ago(5.1), in.id, "db-instance", "backup", "Backing up DB instance")
			in.events = rdsEvent(in.events, ago(5.0), in.id, "db-instance", "backup", "Finished DB Instance backup")
		}
	}
	for _, c := range s.clusters {
		c.events = nil
	}
	for _, sv := range s.services {
		sv.stopped = nil
		if sv.region == awsPrimary && sv.name == "api" {
			at := ago(0.6)
			sv.stopped = append(sv.stopped, sources.ECSTask{ID: taskID(s.w.loopStart - 2160), LastStatus: "STOPPED", DesiredStatus: "STOPPED",
				StartedAt: at.Add(-26 * time.Minute), StoppedAt: at, StopCode: "EssentialContainerExited",
				StoppedReason: "Essential container in task exited",
				Containers: []sources.ECSContainer{{Name: "api", LastStatus: "STOPPED", ExitCode: 137, HasExit: true,
					Reason: "OutOfMemoryError: Container killed due to memory usage"}}})
		}
	}
}

// taskStopped records a task the service lost: newest first, bounded.
func (sv *demoService) taskStopped(t sources.ECSTask) {
	sv.stopped = slices.Insert(sv.stopped, 0, t)
	sv.stopped = sv.stopped[:min(len(sv.stopped), sources.MaxECSTasks)]
}

// tasks are the service's running tasks (one per running count, started
// with their deployment) then its stopped ones.
func (s *AWSSource) tasks(sv *demoService, td func(int32) sources.TaskDef, running int32) []sources.ECSTask {
	var out []sources.ECSTask
	for i := int32(0); i < min(running, sources.MaxECSTasks); i++ {
		d := sv.deployments[0]
		out = append(out, sources.ECSTask{ID: taskID(d.started*31 + int64(i) + int64(len(sv.name))), LastStatus: "RUNNING", DesiredStatus: "RUNNING",
			TaskDefinition: td(d.revision), StartedAt: d.created.Add(time.Duration(i) * taskStartSecs * time.Second),
			Containers: []sources.ECSContainer{{Name: strings.TrimPrefix(sv.family, "nudgecampaign-"), LastStatus: "RUNNING"}}})
	}
	for _, t := range sv.stopped {
		t.TaskDefinition = td(sv.revision)
		t.ARN = "arn:aws:ecs:" + sv.region + ":111122223333:task/" + sv.cluster + "/" + t.ID
		out = append(out, t)
	}
	return out
}

// ReadLogs reads a demo service's CloudWatch Logs (/ecs/<family>, streams
// ecs/<container>/<task>): a request line per running task and second,
// the import's errors while the incident burns.
func (s *AWSSource) ReadLogs(ctx context.Context, q sources.LogQuery, emit func(sources.LogBatch)) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	var sv *demoService
	for _, c := range s.services {
		if c.region == q.Region && "/ecs/"+c.family == q.Group && c.running > 0 {
			sv = c
			break
		}
	}
	if sv == nil {
		s.w.mu.Unlock()
		err := fmt.Errorf("logs: no running service logs to %s in %s", q.Group, q.Region)
		emit(sources.LogBatch{Err: err, Done: true})
		return err
	}
	tail := int64(q.TailOrDefault())
	first := s.serviceLines(sv, s.w.tick-tail, s.w.tick)
	last := s.w.tick
	s.w.mu.Unlock()
	emit(sources.LogBatch{Lines: first, Done: !q.Follow})
	if !q.Follow {
		return nil
	}
	t := time.NewTicker(demoLogEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.lock(ctx); err != nil {
			return nil
		}
		ls := s.serviceLines(sv, max(last, s.w.tick-demoLogTicks), s.w.tick)
		last = s.w.tick
		s.w.mu.Unlock()
		if len(ls) > 0 {
			emit(sources.LogBatch{Lines: ls})
		}
	}
}

// serviceLines are the lines of sv's running tasks in seconds (from, to].
// The caller holds w.mu.
func (s *AWSSource) serviceLines(sv *demoService, from, to int64) []sources.LogLine {
	td := func(r int32) sources.TaskDef { return sources.TaskDef{Family: sv.family, Revision: r} }
	var out []sources.LogLine
	for _, t := range s.tasks(sv, td, max(0, sv.running-sv.down)) {
		if t.Stopped() {
			continue
		}
		container := t.Containers[0].Name
		for sec := from + 1; sec <= to; sec++ {
			r := lineRand(t.ID, sec)
			text := fmt.Sprintf("GET /api/campaigns/%d 200 %dms", 1000+r.IntN(9000), 5+r.IntN(60))
			if r.Float64() < 0.5*s.w.intensity {
				text = fmt.Sprintf("POST /api/contacts/import 500 %dms error: timeout acquiring a connection", 5000+r.IntN(2000))
			}
			out = append(out, sources.LogLine{At: s.w.wall(sec).Add(time.Duration(r.IntN(990)) * time.Millisecond), Pod: t.ID, Container: container, Text: text})
		}
	}
	slices.SortStableFunc(out, func(a, b sources.LogLine) int { return a.At.Compare(b.At) })
	return out
}
