package testsrv

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SNSToSQS makes a topic with an SQS queue subscribed in moto and
// returns the topic's ARN and a function that reads the next message the
// queue got, as SNS delivered it (its JSON envelope's Subject and Message).
func SNSToSQS(t testing.TB, url, region, name string) (topic string, next func() (subject, message string)) {
	t.Helper()
	ctx := context.Background()
	snsc := sns.New(sns.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: MotoAdminCreds})
	sqsc := sqs.New(sqs.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: MotoAdminCreds})
	tp, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-reader")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}); err != nil {
		t.Fatal(err)
	}
	return *tp.TopicArn, func() (string, string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				continue
			}
			var env struct{ Subject, Message string }
			if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &env); err != nil {
				t.Fatalf("SQS body %q: %v", aws.ToString(out.Messages[0].Body), err)
			}
			_, _ = sqsc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: out.Messages[0].ReceiptHandle})
			return env.Subject, env.Message
		}
		t.Fatal("no message reached the SQS queue")
		return "", ""
	}
}
