package sources

import "time"

// Bounds on AWS evidence per snapshot.
const (
	// MaxECSTasks is how many tasks of a service are listed, running and
	// stopped each (ECS keeps stopped tasks about an hour).
	MaxECSTasks = 10
	// MaxRDSEvents is how many RDS events an instance or cluster keeps,
	// newest first, from the last RDSEventWindow.
	MaxRDSEvents = 10
	// RDSEventWindow is how far back RDS events are read.
	RDSEventWindow = 24 * time.Hour
)

// ECSTask is one task of a service: running, or stopped and why.
type ECSTask struct {
	// ID is the task's id (the last part of its ARN); ARN is whole.
	ID, ARN        string
	LastStatus     string // PROVISIONING, RUNNING, STOPPED …
	DesiredStatus  string
	TaskDefinition TaskDef
	StartedAt      time.Time
	StoppedAt      time.Time
	// StoppedReason is ECS's words ("Essential container in task exited",
	// "Task failed ELB health checks", "Scaling activity initiated by
	// deployment …"); StopCode its class (EssentialContainerExited,
	// TaskFailedToStart, UserInitiated, ServiceSchedulerInitiated …).
	StoppedReason, StopCode string
	Containers              []ECSContainer
}

// Stopped reports whether the task has stopped (or is stopping).
func (t ECSTask) Stopped() bool { return t.LastStatus == "STOPPED" || t.DesiredStatus == "STOPPED" }

// ECSContainer is one container of a task and how it ended.
type ECSContainer struct {
	Name       string
	LastStatus string
	// ExitCode is set once the container exited (HasExit).
	ExitCode int32
	HasExit  bool
	Reason   string // "OutOfMemoryError: Container killed due to memory usage"
}

// ECSLogs is a service's CloudWatch Logs configuration, from its task
// definition's awslogs log driver: the group and the stream prefix
// (streams are prefix/container/task-id).
type ECSLogs struct {
	Region, Group, Prefix string
}

// RDSEvent is one event RDS recorded about an instance or cluster:
// failover, reboot, maintenance, low storage …
type RDSEvent struct {
	At         time.Time
	SourceID   string
	SourceType string // db-instance, db-cluster
	Categories []string
	Message    string // sanitized
}
