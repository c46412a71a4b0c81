package record

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flightdeck/sources"
)

// podKilled is a rollout snapshot whose pod was OOMKilled, with the
// BackOff warning about it; gone is the same deployment after the
// upstream forgot both (the pod replaced, the event expired).
func podKilled(at time.Time, backoffs int32) sources.Snapshot {
	d := sources.Deployment{Namespace: "production", Name: "nudgecampaign-api", Evidence: sources.Evidence{
		Pods: []sources.PodStatus{{Name: "nudgecampaign-api-7d9f8b6c5-x2k4p", Restarts: 3,
			LastTermination: &sources.Termination{Container: "api", Reason: "OOMKilled", ExitCode: 137, At: t0.Add(time.Minute)}}},
		Warnings: []sources.KubeEvent{{Kind: "Pod", Name: "nudgecampaign-api-7d9f8b6c5-x2k4p", Type: "Warning", Reason: "BackOff",
			Message: "Back-off restarting failed container api", Count: backoffs, FirstSeen: t0.Add(time.Minute), LastSeen: at}},
	}}
	return sources.Snapshot{Source: "kube", Kind: sources.KindRollouts, FetchedAt: at, Data: &sources.RolloutSet{Deployments: []sources.Deployment{d}}}
}

func taskStopped(at time.Time) sources.Snapshot {
	sv := sources.ECSService{Region: "us-east-1", Cluster: "nudgecampaign-production", Name: "api", Tasks: []sources.ECSTask{
		{ID: "4f1b2c", LastStatus: "RUNNING", DesiredStatus: "RUNNING"},
		{ID: "9a8b7c", LastStatus: "STOPPED", DesiredStatus: "STOPPED", StoppedAt: t0.Add(2 * time.Minute), StopCode: "EssentialContainerExited",
			StoppedReason: "Essential container in task exited", Containers: []sources.ECSContainer{{Name: "api", ExitCode: 137, HasExit: true, Reason: "OutOfMemoryError"}}},
	}}
	in := sources.RDSInstance{Region: "us-east-1", ID: "nudgecampaign-prod", Events: []sources.RDSEvent{
		{At: t0.Add(3 * time.Minute), SourceID: "nudgecampaign-prod", Categories: []string{"failover"}, Message: "Multi-AZ instance failover completed."}}}
	return sources.Snapshot{Source: "aws", Kind: sources.KindAWS, FetchedAt: at, Data: &sources.AWSSet{ECS: []sources.ECSService{sv}, RDS: []sources.RDSInstance{in}}}
}

func forgotten(at time.Time) []sources.Snapshot {
	k := sources.Snapshot{Source: "kube", Kind: sources.KindRollouts, FetchedAt: at, Data: &sources.RolloutSet{Deployments: []sources.Deployment{{Namespace: "production", Name: "nudgecampaign-api"}}}}
	a := sources.Snapshot{Source: "aws", Kind: sources.KindAWS, FetchedAt: at, Data: &sources.AWSSet{ECS: []sources.ECSService{{Region: "us-east-1", Cluster: "nudgecampaign-production", Name: "api"}}}}
	return []sources.Snapshot{k, a}
}

// A pod killed with a reason and an ECS task stopped with a reason are in
// the timeline after the upstreams forgot them; a warning that keeps
// recurring is a line per evidenceRepeat with its count, not a line per
// poll; a restarted recorder writes nothing twice.
func TestEvidenceOutlivesTheUpstream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	run := func(batches ...[]sources.Snapshot) {
		t.Helper()
		// The recorder's clock is the incident's: a restart looks back
		// from then for what it already wrote.
		r, err := Open(path, Options{Now: func() time.Time { return t0.Add(72 * time.Minute) }})
		if err != nil {
			t.Fatal(err)
		}
		ch := make(chan []sources.Snapshot, len(batches))
		for _, b := range batches {
			ch <- b
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- r.RunEvidence(ctx, blocking{ch}) }()
		for len(ch) > 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run(
		[]sources.Snapshot{podKilled(t0.Add(90*time.Second), 2), taskStopped(t0.Add(3 * time.Minute))},
		[]sources.Snapshot{podKilled(t0.Add(2*time.Minute), 5)},              // the count grew, too soon for a line
		[]sources.Snapshot{podKilled(t0.Add(7*time.Minute), 14)},             // grown, 5 minutes on: a line
		[]sources.Snapshot{podKilled(t0.Add(7*time.Minute+time.Second), 14)}, // unchanged
	)
	run(append(forgotten(t0.Add(70*time.Minute)), podKilled(t0.Add(7*time.Minute), 14))) // a restart: nothing again
	run(forgotten(t0.Add(71 * time.Minute)))

	tl, err := Build(TimelineOptions{EventsPath: path})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tl.Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	kinds := map[EventKind]int{}
	for _, e := range tl.Entries {
		if e.Event != nil {
			kinds[e.Event.Kind]++
		}
	}
	if kinds[PodTerminated] != 1 || kinds[ECSTaskStopped] != 1 || kinds[KubeWarning] != 2 || kinds[RDSEvent] != 1 {
		t.Errorf("evidence events %v\n%s", kinds, md)
	}
	for _, want := range []string{
		"pod nudgecampaign-api-7d9f8b6c5-x2k4p container api terminated: OOMKilled exit 137 (restarts 3)",
		"us-east-1/nudgecampaign-production/api task 9a8b7c stopped: EssentialContainerExited: Essential container in task exited; api exit 137 (OutOfMemoryError)",
		"BackOff pod/nudgecampaign-api-7d9f8b6c5-x2k4p (×14, first 03:08:00, last 03:14:00)",
		"RDS us-east-1/nudgecampaign-prod: Multi-AZ instance failover completed. \\[failover\\]",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("timeline lacks %q:\n%s", want, md)
		}
	}
}

func TestPinWritesWhoAndTheLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 40 {
		lines = append(lines, "10:01:02.000 [x2k4p/api] POST /api/contacts/import 500 error "+strings.Repeat("x", i*10))
	}
	if err := r.Pin(Excerpt{Target: "production/nudgecampaign-api", Filter: "500", Who: "alice@bastion", At: t0, Lines: lines}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	evs, _, err := ReadEvents(path)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%v %d events", err, len(evs))
	}
	e := evs[0]
	if e.Kind != LogExcerpt || !strings.HasPrefix(e.Summary, `log excerpt of production/nudgecampaign-api pinned by alice@bastion, 40 lines (filter "500"): `) ||
		len(e.Labels) != maxExcerptLines || e.Labels["line01"] == "" || !e.Time.Equal(t0) {
		t.Errorf("excerpt %+v", e)
	}
}
