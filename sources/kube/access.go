package kube

import (
	"context"
	"fmt"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"flightdeck/internal/redact"
	"flightdeck/internal/sanitize"
	"flightdeck/sources"
)

// requirement is one RBAC permission an action needs.
type requirement struct {
	verb, resource, subresource string
	group                       string
}

func (r requirement) String() string {
	res := r.resource
	if r.subresource != "" {
		res += "/" + r.subresource
	}
	return r.verb + " " + res
}

var (
	patchDeployments = requirement{verb: "patch", group: "apps", resource: "deployments"}
	// kubectl scale sends a merge patch to the scale subresource.
	patchScale = requirement{verb: "patch", group: "apps", resource: "deployments", subresource: "scale"}
	listRS     = requirement{verb: "list", group: "apps", resource: "replicasets"}
)

// actionNeeds maps each action (the string values of ops.Kind) to the
// permissions it uses, in the order they are reported.
var actionNeeds = map[string][]requirement{
	"undo":    {patchDeployments, listRS},
	"restart": {patchDeployments},
	"pause":   {patchDeployments},
	"resume":  {patchDeployments},
	"scale":   {patchScale},
}

// refreshPermissions asks the API server, with one SelfSubjectAccessReview
// per (namespace, permission), which actions are refused, and stores the
// result for the next snapshots. Failures keep the previous answer: a
// transient error must not make every action look allowed or denied.
// namespaces is used when the source watches all namespaces.
func (s *Source) refreshPermissions(ctx context.Context, seen []string) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	nss := s.namespaces
	if len(nss) == 1 && nss[0] == metav1.NamespaceAll {
		nss = seen
		if len(nss) > 100 {
			nss = nss[:100] // a bound on review calls; the rest shows as allowed and the API still refuses
		}
	}
	user := s.whoAmI(ctx)
	out := make(map[string]sources.Denied, len(nss))
	for _, ns := range nss {
		answers := map[requirement]bool{}
		for _, req := range []requirement{patchDeployments, patchScale, listRS} {
			ok, err := s.allowed(ctx, ns, req)
			if err != nil {
				s.log.Warn("access review failed; keeping previous permissions", "namespace", ns, "err", redact.Error(err))
				return
			}
			answers[req] = ok
		}
		var d sources.Denied
		for action, needs := range actionNeeds {
			for _, req := range needs {
				if !answers[req] {
					if d == nil {
						d = sources.Denied{}
					}
					d[action] = fmt.Sprintf("forbidden: user %s cannot %s in namespace %s", user, req, ns)
					break
				}
			}
		}
		if d != nil {
			out[ns] = d
		}
	}
	s.mu.Lock()
	s.denied, s.user = out, user
	s.mu.Unlock()
}

func (s *Source) allowed(ctx context.Context, ns string, r requirement) (bool, error) {
	rev, err := s.cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: ns, Verb: r.verb, Group: r.group, Resource: r.resource, Subresource: r.subresource,
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return rev.Status.Allowed, nil
}

// whoAmI names the authenticated user for the Denied reasons (a
// SelfSubjectReview, GA since 1.28); "this user" when the server cannot say.
func (s *Source) whoAmI(ctx context.Context) string {
	s.mu.Lock()
	u := s.user
	s.mu.Unlock()
	if u != "" {
		return u
	}
	r, err := s.cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || r.Status.UserInfo.Username == "" {
		return "this user"
	}
	return sanitize.Text(r.Status.UserInfo.Username)
}
