package kube

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"flightdeck/internal/testsrv"
	"flightdeck/sources"
)

// hostileContext is a kubeconfig context name carrying an 8-bit CSI, a
// right-to-left override and an OSC title sequence.
const hostileContext = "prod\u009b2J\u202eevil\x1b]0;X\x07"

// TestKubeconfigNamesSanitized: a downloaded kubeconfig is outside text;
// its context names reach the Rollouts title and error messages
// sanitized.
func TestKubeconfigNamesSanitized(t *testing.T) {
	kc := strings.ReplaceAll(twoContexts, "current-context: staging", "current-context: \""+
		strings.NewReplacer("\u009b", `\u009b`, "\u202e", `\u202e`, "\x1b", `\e`, "\x07", `\a`).Replace(hostileContext)+"\"")
	kc = strings.Replace(kc, "- name: prod\n", "- name: \""+
		strings.NewReplacer("\u009b", `\u009b`, "\u202e", `\u202e`, "\x1b", `\e`, "\x07", `\a`).Replace(hostileContext)+"\"\n", 1)
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Kubeconfig: path})
	if err != nil {
		t.Fatal(err)
	}
	if len(testsrv.RawControls(s.Context())) > 0 || s.Context() != "prodevil" {
		t.Errorf("Context() = %q", s.Context())
	}
	// The snapshot's Context, which the pane puts in its title.
	s.cs = fake.NewSimpleClientset()
	p, err := s.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ctx := p.(*sources.RolloutSet).Context; len(testsrv.RawControls(ctx)) > 0 {
		t.Errorf("RolloutSet.Context = %q", ctx)
	}
	// A context that does not exist is named in the error: sanitized.
	if _, err := New(Options{Kubeconfig: path, Context: "missing\u202e\x1b]52;c;QQ==\x07"}); err == nil || len(testsrv.RawControls(err.Error())) > 0 {
		t.Errorf("unknown context: %q", err)
	}
	// The API server URL stands in for the context with NewForConfig.
	s2, err := NewForConfig(&rest.Config{Host: "https://admin:hunter2@127.0.0.1:6443"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s2.Context(), "hunter2") {
		t.Errorf("Context() = %q", s2.Context())
	}
}
