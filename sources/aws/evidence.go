package aws

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"flightdeck/sources"
)

// Evidence: a service's tasks (running, and the recently stopped ones with
// why), where its containers log, and RDS's events. These reads are
// best-effort: a refusal or failure is a warning of the snapshot, never an
// error of the region, since the services and instances are still right.

// addTasks reads the service's running and stopped tasks and its awslogs
// configuration into e.
func (s *Source) addTasks(ctx context.Context, c *regionClients, r Region, e *sources.ECSService) []string {
	var warns []string
	var arns []string
	for _, st := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		resp, err := c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(r.ECSCluster), ServiceName: aws.String(e.Name),
			DesiredStatus: st, MaxResults: aws.Int32(100)})
		if err != nil {
			return append(warns, s.classify(ctx, "ecs:ListTasks", r.Name, err).Error())
		}
		arns = append(arns, resp.TaskArns...)
	}
	var tasks []sources.ECSTask
	for batch := range slices.Chunk(arns, 100) {
		resp, err := c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(r.ECSCluster), Tasks: batch})
		if err != nil {
			return append(warns, s.classify(ctx, "ecs:DescribeTasks", r.Name, err).Error())
		}
		for _, t := range resp.Tasks {
			// ListTasks filters by service; DescribeTasks' group says it
			// again (emulators ignore the filter).
			if g := aws.ToString(t.Group); g != "" && g != "service:"+e.Name {
				continue
			}
			tasks = append(tasks, convertTask(t))
		}
	}
	e.Tasks = boundTasks(tasks)
	if logs, err := s.taskLogs(ctx, c, r.Name, e.TaskDefinition); err != nil {
		warns = append(warns, err.Error())
	} else {
		e.Logs = logs
	}
	return warns
}

// boundTasks keeps the newest MaxECSTasks running and MaxECSTasks stopped
// tasks, running first.
func boundTasks(ts []sources.ECSTask) []sources.ECSTask {
	var run, stop []sources.ECSTask
	for _, t := range ts {
		if t.Stopped() {
			stop = append(stop, t)
		} else {
			run = append(run, t)
		}
	}
	sort.SliceStable(run, func(i, j int) bool { return run[i].StartedAt.After(run[j].StartedAt) })
	sort.SliceStable(stop, func(i, j int) bool { return stop[i].StoppedAt.After(stop[j].StoppedAt) })
	return append(run[:min(len(run), sources.MaxECSTasks)], stop[:min(len(stop), sources.MaxECSTasks)]...)
}

func convertTask(t ecstypes.Task) sources.ECSTask {
	arn := san(aws.ToString(t.TaskArn))
	out := sources.ECSTask{
		ID: arnName(arn), ARN: arn,
		LastStatus:     san(aws.ToString(t.LastStatus)),
		DesiredStatus:  san(aws.ToString(t.DesiredStatus)),
		TaskDefinition: parseTaskDef(aws.ToString(t.TaskDefinitionArn)),
		StartedAt:      aws.ToTime(t.StartedAt),
		StoppedAt:      aws.ToTime(t.StoppedAt),
		StoppedReason:  oneLine(aws.ToString(t.StoppedReason)),
		StopCode:       san(string(t.StopCode)),
	}
	for i, c := range t.Containers {
		if i == 10 {
			break
		}
		ec := sources.ECSContainer{Name: san(aws.ToString(c.Name)), LastStatus: san(aws.ToString(c.LastStatus)), Reason: oneLine(aws.ToString(c.Reason))}
		if c.ExitCode != nil {
			ec.ExitCode, ec.HasExit = *c.ExitCode, true
		}
		out.Containers = append(out.Containers, ec)
	}
	return out
}

// taskLogs is where td's containers log: the first container with the
// awslogs driver. A task definition revision never changes, so the answer
// is cached for good (bounded).
func (s *Source) taskLogs(ctx context.Context, c *regionClients, region string, td sources.TaskDef) (sources.ECSLogs, error) {
	if td.IsZero() {
		return sources.ECSLogs{}, nil
	}
	key := region + "|" + td.String()
	s.mu.Lock()
	l, ok := s.logCfg[key]
	s.mu.Unlock()
	if ok {
		return l, nil
	}
	resp, err := c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td.String())})
	if err != nil {
		return sources.ECSLogs{}, s.classify(ctx, "ecs:DescribeTaskDefinition", region, err)
	}
	if resp.TaskDefinition != nil {
		for _, cd := range resp.TaskDefinition.ContainerDefinitions {
			lc := cd.LogConfiguration
			if lc == nil || lc.LogDriver != ecstypes.LogDriverAwslogs {
				continue
			}
			l = sources.ECSLogs{Region: region, Group: san(lc.Options["awslogs-group"]), Prefix: san(lc.Options["awslogs-stream-prefix"])}
			if r := lc.Options["awslogs-region"]; r != "" {
				l.Region = san(r)
			}
			break
		}
	}
	s.mu.Lock()
	if len(s.logCfg) >= 4*sources.MaxECSServices {
		clear(s.logCfg)
	}
	s.logCfg[key] = l
	s.mu.Unlock()
	return l, nil
}

// addRDSEvents reads the region's RDS events of the last RDSEventWindow
// (instances and clusters) onto the instances and clusters shown.
func (s *Source) addRDSEvents(ctx context.Context, c *regionClients, region string, insts []sources.RDSInstance, clusters []sources.RDSCluster) []string {
	if len(insts) == 0 && len(clusters) == 0 {
		return nil
	}
	since := s.now().Add(-sources.RDSEventWindow)
	by := map[string][]sources.RDSEvent{}
	for _, st := range []rdstypes.SourceType{rdstypes.SourceTypeDbInstance, rdstypes.SourceTypeDbCluster} {
		p := rds.NewDescribeEventsPaginator(c.rds, &rds.DescribeEventsInput{SourceType: st,
			StartTime: aws.Time(since), MaxRecords: aws.Int32(100)})
		for pages := 0; p.HasMorePages() && pages < 5; pages++ {
			page, err := p.NextPage(ctx)
			if err != nil {
				return []string{s.classify(ctx, "rds:DescribeEvents", region, err).Error()}
			}
			for _, ev := range page.Events {
				at := aws.ToTime(ev.Date)
				if at.Before(since) { // emulators ignore StartTime
					continue
				}
				e := sources.RDSEvent{At: at, SourceID: san(aws.ToString(ev.SourceIdentifier)), SourceType: san(string(ev.SourceType)),
					Message: oneLine(aws.ToString(ev.Message))}
				for _, cat := range ev.EventCategories {
					e.Categories = append(e.Categories, san(cat))
				}
				k := string(st) + "/" + e.SourceID
				by[k] = append(by[k], e)
			}
		}
	}
	newest := func(evs []sources.RDSEvent) []sources.RDSEvent {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.After(evs[j].At) })
		return evs[:min(len(evs), sources.MaxRDSEvents)]
	}
	for i := range insts {
		insts[i].Events = newest(by[string(rdstypes.SourceTypeDbInstance)+"/"+insts[i].ID])
	}
	for i := range clusters {
		clusters[i].Events = newest(by[string(rdstypes.SourceTypeDbCluster)+"/"+clusters[i].ID])
	}
	return nil
}

// CloudWatch Logs reading for the log view.
const (
	// logLookback is how far back the first read of a group goes.
	logLookback = time.Hour
	// logPoll is how often a followed group is asked for new events.
	logPoll = 2 * time.Second
	// logPages bounds the pages one read or poll asks for.
	logPages = 10
)

// ReadLogs reads an ECS service's CloudWatch Logs (q.Region, q.Group,
// streams under q.Prefix): the last q.Tail events of each stream from the
// last hour (at most MaxLogStreams streams), then, following, new events
// every two seconds, with backoff while the API fails.
func (s *Source) ReadLogs(ctx context.Context, q sources.LogQuery, emit func(sources.LogBatch)) error {
	if q.Group == "" {
		err := fmt.Errorf("logs: %s does not log to CloudWatch Logs (no awslogs-group in its task definition)", q.Target)
		emit(sources.LogBatch{Err: err, Done: true})
		return err
	}
	if _, err := s.region(q.Region); err != nil {
		emit(sources.LogBatch{Err: err, Done: true})
		return err
	}
	cfg, _, err := s.ready(ctx)
	if err != nil {
		emit(sources.LogBatch{Err: err, Done: true})
		return err
	}
	c := s.clientsFor(cfg, q.Region)
	tail := q.TailOrDefault()
	start := s.now().Add(-logLookback).UnixMilli()
	// Events at the newest timestamp seen, so a poll from that timestamp
	// (inclusive) does not repeat them.
	seen := map[string]bool{}
	perStream := map[string][]sources.LogLine{}
	var order []string
	last, err := s.filterLogs(ctx, c, q, start, seen, func(stream string, l sources.LogLine) {
		ls, ok := perStream[stream]
		if !ok {
			if len(order) == sources.MaxLogStreams {
				return
			}
			order = append(order, stream)
		}
		ls = append(ls, l)
		if len(ls) > tail {
			ls = ls[1:]
		}
		perStream[stream] = ls
	})
	if err != nil {
		emit(sources.LogBatch{Err: err, Done: true})
		return err
	}
	var first sources.LogBatch
	for _, st := range order {
		first.Lines = append(first.Lines, perStream[st]...)
	}
	slices.SortStableFunc(first.Lines, func(a, b sources.LogLine) int { return a.At.Compare(b.At) })
	if len(order) == sources.MaxLogStreams {
		first.Notices = append(first.Notices, fmt.Sprintf("reading at most %d streams", sources.MaxLogStreams))
	}
	if !q.Follow {
		first.Done = true
		emit(first)
		return nil
	}
	emit(first)
	backoff := logPoll
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		var b sources.LogBatch
		next, err := s.filterLogs(ctx, c, q, max(last, start), seen, func(_ string, l sources.LogLine) { b.Lines = append(b.Lines, l) })
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			backoff = min(2*backoff, 30*time.Second)
			b.Notices = append(b.Notices, fmt.Sprintf("%s; retrying in %s", err, backoff))
		} else {
			backoff, last = logPoll, max(last, next)
		}
		if len(b.Lines) > 0 || len(b.Notices) > 0 {
			slices.SortStableFunc(b.Lines, func(a, b sources.LogLine) int { return a.At.Compare(b.At) })
			emit(b)
		}
	}
}

// filterLogs pages FilterLogEvents from start (ms), hands on each event
// not seen yet, and returns the newest timestamp read; seen is reset to
// the events at that timestamp.
func (s *Source) filterLogs(ctx context.Context, c *regionClients, q sources.LogQuery, start int64, seen map[string]bool, add func(stream string, l sources.LogLine)) (int64, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(q.Group), StartTime: aws.Int64(start), Limit: aws.Int32(1000)}
	if q.Prefix != "" {
		in.LogStreamNamePrefix = aws.String(q.Prefix + "/")
	}
	newest := start
	var atNewest []string
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c.logs, in)
	for pages := 0; p.HasMorePages() && pages < logPages; pages++ {
		page, err := p.NextPage(ctx)
		if err != nil {
			return newest, s.classify(ctx, "logs:FilterLogEvents", q.Region, err)
		}
		for _, ev := range page.Events {
			stream, id := aws.ToString(ev.LogStreamName), aws.ToString(ev.EventId)
			if q.Prefix != "" && !strings.HasPrefix(stream, q.Prefix+"/") { // emulators ignore the prefix
				continue
			}
			ts := aws.ToInt64(ev.Timestamp)
			if seen[id] {
				continue
			}
			switch {
			case ts > newest:
				newest, atNewest = ts, atNewest[:0]
				fallthrough
			case ts == newest:
				atNewest = append(atNewest, id)
			}
			add(stream, streamLine(q.Prefix, stream, ts, aws.ToString(ev.Message)))
		}
	}
	if len(atNewest) > 0 {
		clear(seen)
		for _, id := range atNewest {
			seen[id] = true
		}
	}
	return newest, nil
}

// streamLine is an event as a log line: awslogs streams are
// prefix/container/task-id, so the task is the "pod".
func streamLine(prefix, stream string, ts int64, msg string) sources.LogLine {
	rest := strings.TrimPrefix(stream, prefix+"/")
	container, task, ok := strings.Cut(rest, "/")
	if !ok {
		container, task = "", rest
	}
	return sources.LogLine{At: time.UnixMilli(ts).UTC(), Pod: sources.ClipText(task, 128), Container: sources.ClipText(container, 64),
		Text: sources.ClipText(strings.TrimRight(msg, "\r\n"), sources.MaxLogLineBytes)}
}
