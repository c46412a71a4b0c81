package sources

import (
	"context"
	"time"
)

// Bounds of log reading. Every one holds against a hostile or runaway
// workload: a 10 MB line costs MaxLogLineBytes, a thousand-pod selector
// costs MaxLogStreams streams.
const (
	// MaxLogLineBytes is the longest log line kept; the rest of a longer
	// line is read and dropped, and the kept part ends in "…".
	MaxLogLineBytes = 2048
	// MaxLogStreams is how many pod containers (or log streams) are read
	// at once; the others are named in a notice.
	MaxLogStreams = 20
	// DefaultLogTail is how many lines of each stream are read first.
	DefaultLogTail = 100
	// MaxLogTail bounds LogQuery.Tail.
	MaxLogTail = 5000
)

// LogQuery says whose logs to read.
type LogQuery struct {
	// Source is the name of the source that reads them ("kube", "aws").
	Source string
	// Namespace and Selector choose Kubernetes pods (a Deployment's
	// selector).
	Namespace, Selector string
	// Region, Group and Prefix choose CloudWatch Logs streams: the group
	// and the stream prefix of an ECS service's awslogs configuration.
	Region, Group, Prefix string
	// Target names what is read, for titles and journals
	// ("production/nudgecampaign-api").
	Target string
	// Tail is how many of the last lines of each stream to read first (0
	// means DefaultLogTail, at most MaxLogTail).
	Tail int
	// Follow keeps reading new lines (and new pods) until the context ends.
	Follow bool
	// Previous reads the previous instance of each container that
	// restarted (kubectl logs --previous); it never follows.
	Previous bool
}

// TailOrDefault is q.Tail within its bounds.
func (q LogQuery) TailOrDefault() int {
	switch {
	case q.Tail <= 0:
		return DefaultLogTail
	case q.Tail > MaxLogTail:
		return MaxLogTail
	}
	return q.Tail
}

// LogLine is one line of a container's (or log stream's) output.
type LogLine struct {
	// At is the time the runtime (or CloudWatch) recorded the line.
	At time.Time
	// Pod and Container name the origin in full (an ECS task id and
	// container for CloudWatch streams).
	Pod, Container string
	// Text is the line, sanitized, at most MaxLogLineBytes bytes.
	Text string
	// Previous marks a line of a previous container instance.
	Previous bool
}

// LogBatch is what a log reader hands on at a time: lines in time order
// (within the batch) and what changed about the streams.
type LogBatch struct {
	Lines []LogLine
	// Notices say what happened to the streams ("pod x gone", "y: stream
	// ended, reconnecting in 2s"), sanitized.
	Notices []string
	// Err is a failure to read at all (no rights, no such group).
	Err error
	// Done is true on the last batch of a reading that does not follow.
	Done bool
}

// LogReader reads logs. ReadLogs runs until ctx ends or, when q does not
// follow, every stream was read; it calls emit from one goroutine at a
// time, and emit may block (that is the back-pressure: a slow reader
// slows the streams, memory does not grow).
type LogReader interface {
	ReadLogs(ctx context.Context, q LogQuery, emit func(LogBatch)) error
}
