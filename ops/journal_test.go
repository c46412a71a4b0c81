package ops

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"flightdeck/internal/testsrv"
)

func TestReadJournalReportsTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	os.WriteFile(path, []byte(`{"phase":"intent","plan_id":"1"}`+"\n"+`{"phase":"outc`), 0o600)
	recs, err := ReadJournal(path)
	var de *DamageError
	if !errors.As(err, &de) || len(de.Lines) != 1 || de.Lines[0].Line != 2 {
		t.Fatalf("torn line not reported: %v", err)
	}
	if len(recs) != 1 || recs[0].PlanID != "1" {
		t.Fatalf("recs = %+v", recs)
	}
}

// TestJournalFullDisk is the torn write on a real full disk (a tiny
// tmpfs): the outcome that hits ENOSPC fails, and once space is freed the
// next intent is a record of its own, not glued onto half an outcome.
func TestJournalFullDisk(t *testing.T) {
	dir := testsrv.Tmpfs(t, 32<<10)
	filler := filepath.Join(dir, "filler")
	j, err := OpenJournal(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	at := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	if err := j.Append(Record{Time: at, Phase: "intent", PlanID: "p-1", Operator: "oncall@bastion", Action: Terminate, Targets: []string{"pid 4711"}}); err != nil {
		t.Fatal(err)
	}
	// Fill the disk to within a few hundred bytes: the outcome below, with
	// its long error, cannot fit whole.
	st, _ := os.Stat(j.Path())
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	if err := os.WriteFile(filler, make([]byte, free-int64(fs.Bsize)), 0o600); err != nil {
		t.Fatal(err)
	}
	left := int(fs.Bsize) - int(st.Size()%int64(fs.Bsize))
	outcome := Record{Time: at, Phase: "outcome", PlanID: "p-1", Operator: "oncall@bastion", Action: Terminate,
		Outcome: "failed", Error: strings.Repeat("e", left+int(fs.Bsize))}
	if err := j.Append(outcome); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v", err)
	}
	os.Remove(filler)
	if err := j.Append(Record{Time: at, Phase: "intent", PlanID: "p-2", Operator: "oncall@bastion", Action: Cancel, Targets: []string{"pid 4712"}}); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadJournal(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].PlanID != "p-1" || recs[1].PlanID != "p-2" || recs[1].Phase != "intent" {
		t.Fatalf("journal after a full disk = %+v", recs)
	}
}
