// Package kubefixture builds the Kubernetes objects the integration tests
// create on the test control plane (internal/testsrv.Kube). It is apart
// from testsrv so that the many test binaries that start other servers do
// not link the Kubernetes API types.
package kubefixture

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ChangeCause is the annotation kubectl rollout history shows.
const ChangeCause = "kubernetes.io/change-cause"

// Deployment is the ops manual's shape of an API deployment: 3 replicas of
// one container "api" running image, selected by app=name, rolled one pod
// at a time (maxSurge 1, maxUnavailable 0) so a rollout takes a while, with
// cause as its change-cause. Tests add to the container what they need.
func Deployment(name, image, cause string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	replicas := int32(3)
	one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{ChangeCause: cause}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &zero}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: image}}},
			},
		},
	}
}
