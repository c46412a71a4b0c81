package aws

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"flightdeck/internal/errchain"
	"flightdeck/internal/httpopt"
	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// Error is what Fetch, the actions and the waiters return: one sanitized
// line for the status bar or the pane ("ecs:UpdateService in us-east-1:
// access denied: User: … is not authorized to perform: ecs:UpdateService"),
// wrapping the SDK's error. errors.Is(err, sources.ErrAccessDenied) (or
// ErrCredentials, ErrThrottled, context.DeadlineExceeded) tells the cases
// apart without importing this package.
type Error struct {
	// Op is the API call ("rds:RebootDBInstance"), or what was being done.
	Op string
	// Region is where; "" when not region-specific.
	Region string
	// Code is AWS's error code ("AccessDenied"), "" for transport errors.
	Code string
	// Message is the explanation, sanitized, one line.
	Message string
	// Kind is sources.ErrAccessDenied, ErrCredentials, ErrThrottled,
	// context.DeadlineExceeded, or nil.
	Kind error
	err  error
}

// Error is "op in region: message".
func (e *Error) Error() string {
	where := e.Op
	if e.Region != "" {
		where += " in " + e.Region
	}
	if where == "" {
		return e.Message
	}
	return where + ": " + e.Message
}

// Unwrap gives Kind and the SDK's error, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.err != nil {
		out = append(out, e.err)
	}
	return out
}

// Error codes, by what they mean for the operator. Services differ: the
// Query services (RDS, CloudWatch) say AccessDenied, the JSON ones (ECS)
// AccessDeniedException, EC2-style APIs UnauthorizedOperation.
var (
	accessDeniedCodes = map[string]bool{
		"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
		"UnauthorizedException": true, "NotAuthorized": true,
	}
	credentialCodes = map[string]bool{
		"ExpiredToken": true, "ExpiredTokenException": true, "RequestExpired": true,
		"InvalidClientTokenId": true, "UnrecognizedClientException": true, "SignatureDoesNotMatch": true,
		"InvalidSignatureException": true, "MissingAuthenticationToken": true, "IncompleteSignature": true,
		"AuthFailure": true, "InvalidAccessKeyId": true,
	}
)

// classify turns an SDK error into an *Error. limit is the timeout that
// applied, for the message.
func (s *Source) classify(ctx context.Context, op, region string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{Op: op, Region: region, err: err}
	var respErr *smithyhttp.ResponseError
	var tooLarge *httpopt.TooLargeError
	code, msg, isAPI := apiError(err)
	switch {
	case isAPI:
		e.Code = sanitize.Text(code)
		msg := oneLine(msg)
		switch {
		case accessDeniedCodes[e.Code]:
			e.Kind = sources.ErrAccessDenied
			e.Message = "access denied: " + orCode(msg, e.Code)
		case credentialCodes[e.Code]:
			e.Kind = sources.ErrCredentials
			e.Message = "AWS rejected the credentials (" + e.Code + ": " + orCode(msg, e.Code) + "); " + s.chain()
		case isThrottle(e.Code):
			e.Kind = sources.ErrThrottled
			e.Message = "throttled by AWS after the SDK's retries with backoff (" + e.Code + ")"
		default:
			e.Message = orCode(msg, e.Code)
			if msg != "" && e.Code != "" {
				e.Message = e.Code + ": " + msg
			}
		}
		// A 403 whose body the SDK could not read as this protocol's
		// error (an emulator answering JSON calls in XML) is still a
		// refusal.
		if e.Kind == nil && errors.As(err, &respErr) && respErr.HTTPStatusCode() == 403 {
			e.Kind = sources.ErrAccessDenied
			e.Message = "access denied (HTTP 403): " + e.Message
		}
	case errors.Is(err, context.DeadlineExceeded) || (ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)):
		e.Kind = context.DeadlineExceeded
		e.Message = "timed out after " + s.timeout.String()
	case errors.Is(err, context.Canceled):
		e.Kind = context.Canceled
		e.Message = "cancelled"
	case errors.As(err, &respErr) && respErr.HTTPStatusCode() == 403:
		e.Kind = sources.ErrAccessDenied
		e.Message = "access denied (HTTP 403): " + oneLine(errchain.Root(err).Error())
	case errors.As(err, &tooLarge):
		e.Message = tooLarge.Error()
	default:
		e.Message = transportText(err)
	}
	return e
}

// apiError extracts AWS's error code and message. Besides the SDK's
// APIError it reads a Query-style XML error body that the SDK could not
// decode because it expected JSON: moto answers refused ECS calls that
// way, and so can a proxy in front of AWS; the reason must not be lost.
func apiError(err error) (code, msg string, ok bool) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode(), apiErr.ErrorMessage(), true
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) && len(de.Snapshot) > 0 {
		var x struct {
			Code    string `xml:"Errors>Error>Code"`
			Message string `xml:"Errors>Error>Message"`
		}
		if xml.Unmarshal(de.Snapshot, &x) == nil && x.Code != "" {
			return x.Code, x.Message, true
		}
	}
	return "", "", false
}

func isThrottle(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
}

func orCode(msg, code string) string {
	if msg == "" {
		return code
	}
	return msg
}

// transportText explains a failure that never got an AWS answer.
func transportText(err error) string {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "no such host " + sanitize.Text(dnsErr.Name)
		}
		return "DNS: " + sanitize.Text(dnsErr.Err)
	case errors.As(err, &opErr):
		return "endpoint unreachable: " + oneLine(errchain.Root(opErr).Error())
	}
	return oneLine(errchain.Root(err).Error())
}

// oneLine sanitizes text from AWS and bounds it: an error message is shown
// on one line and is never allowed to fill the screen.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(sanitize.Text(s)), " ")
	if r := []rune(s); len(r) > 400 {
		s = string(r[:400]) + "…"
	}
	return s
}

// credentialsError explains a failure to load configuration or find
// credentials: the SDK's reason and the chain it walked.
func (s *Source) credentialsError(err error) error {
	msg := "no usable AWS credentials: " + oneLine(innermostUseful(err).Error())
	var sso *ssocreds.InvalidTokenError
	if errors.As(err, &sso) || strings.Contains(strings.ToLower(err.Error()), "sso") {
		p := s.profile()
		msg += "; run `aws sso login --profile " + p + "`"
	}
	return &Error{Op: "credentials", Kind: sources.ErrCredentials, Message: msg + "; " + s.chain(), err: err}
}

// innermostUseful is the root cause unless that is a bare "EOF"-like word,
// in which case one level up says more.
func innermostUseful(err error) error {
	in := errchain.Root(err)
	if len(in.Error()) < 12 {
		return err
	}
	return in
}

func (s *Source) profile() string {
	if s.opts.Profile != "" {
		return s.opts.Profile
	}
	if p := os.Getenv("AWS_PROFILE"); p != "" {
		return p
	}
	return "default"
}

// chain describes the credential chain the SDK walked, in its order
// (config.resolveCredentialChain in aws-sdk-go-v2): environment keys, web
// identity from the environment, the shared-config profile (static keys,
// SSO, assume role, credential_process), container credentials, the EC2
// instance role. A profile given in flightdeck's config skips the
// environment steps, as the SDK does.
func (s *Source) chain() string {
	if s.opts.Credentials != nil {
		return "credentials were given programmatically, not by the default chain"
	}
	set := func(name string) string {
		if os.Getenv(name) != "" {
			return name + " set"
		}
		return name + " not set"
	}
	var steps []string
	if s.opts.Profile == "" {
		steps = append(steps,
			"environment ("+set("AWS_ACCESS_KEY_ID")+")",
			"web identity ("+set("AWS_WEB_IDENTITY_TOKEN_FILE")+")")
	}
	steps = append(steps, fmt.Sprintf("profile %q (%s, %s)", s.profile(),
		fileState("AWS_CONFIG_FILE", "config"), fileState("AWS_SHARED_CREDENTIALS_FILE", "credentials")))
	container := "not configured"
	if os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != "" || os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") != "" {
		container = "configured"
	}
	steps = append(steps, "container credentials ("+container+")")
	imds := "EC2 instance role (IMDS)"
	if strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		imds = "EC2 instance role (IMDS disabled by AWS_EC2_METADATA_DISABLED)"
	}
	steps = append(steps, imds)
	return "credential chain tried: " + strings.Join(steps, " → ")
}

// fileState names a shared config file and whether it exists.
func fileState(env, name string) string {
	p := os.Getenv(env)
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".aws", name)
	}
	if _, err := os.Stat(p); err != nil {
		return sanitize.Text(p) + " missing"
	}
	return sanitize.Text(p)
}
