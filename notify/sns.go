package notify

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
)

// SNSPublisher is the one call SNS needs; *sns.Client satisfies it. The
// IAM policy of whoever runs flightdeck needs sns:Publish on the topic.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNS publishes events to an SNS topic: the subject as Subject, the event
// as Message, its kind and environment as message attributes (so
// subscriptions can filter).
type SNS struct {
	name, topic string
	client      SNSPublisher
}

// NewSNS is a sink publishing to topic through client.
func NewSNS(name, topic string, client SNSPublisher) *SNS {
	return &SNS{name: name, topic: topic, client: client}
}

// Name is the sink's name.
func (s *SNS) Name() string { return s.name }

// Send publishes e.
func (s *SNS) Send(ctx context.Context, e Event) error {
	subject := cut(e.Line(), MaxSubject)
	in := &sns.PublishInput{
		TopicArn: aws.String(s.topic),
		Subject:  aws.String(snsSubject(subject)),
		Message:  aws.String(e.body()),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String(string(e.Kind))},
		},
	}
	if e.Environment != "" {
		in.MessageAttributes["environment"] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(e.Environment)}
	}
	if _, err := s.client.Publish(ctx, in); err != nil {
		return fmt.Errorf("sns publish to %s: %s", s.topic, sanitize.Text(redact.Error(err).Error()))
	}
	return nil
}

// snsSubject keeps what SNS accepts in a subject: printable ASCII and
// spaces, no newline, at most 100 characters, not empty.
func snsSubject(s string) string {
	b := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b = append(b, r)
		case r == '\n' || r == '\t':
			b = append(b, ' ')
		default:
			b = append(b, '?')
		}
	}
	if len(b) == 0 {
		return "flightdeck"
	}
	return string(b)
}
