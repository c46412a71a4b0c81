package testsrv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// motoHint is how to get moto_server: it is a Python package, not a Debian
// one, so apt cannot install it.
const motoHint = "moto_server (the AWS emulator, Python) is not installed: pip install 'moto[server]==5.2.1'"

// Moto is a throwaway moto_server (the AWS emulator) on loopback. Every
// service answers on the one URL; the region and service come from the
// request's signature.
type Moto struct {
	URL string // http://127.0.0.1:port
	Dir string // working directory and log
}

// StartMoto starts moto_server on a free loopback port with its working
// directory in a temp dir and waits until it answers.
// $FLIGHTDECK_MOTO_SERVER overrides the binary.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	bin := LookBin(t, motoHint, os.Getenv("FLIGHTDECK_MOTO_SERVER"), "moto_server")
	dir := t.TempDir()
	port := FreePort(t)
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Dir = dir
	// Keep the emulator from reading the developer's AWS files or
	// contacting anything: it needs no credentials of its own.
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE="+filepath.Join(dir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true")
	StartProcess(t, filepath.Join(dir, "moto.log"), cmd)
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir}
	// Python and moto's imports take a few seconds on a busy machine.
	WaitHTTP(t, m.URL+"/moto-api/", 60*time.Second)
	return m
}

// Reset forgets every resource, as a fresh server would.
func (m *Moto) Reset(t testing.TB) {
	t.Helper()
	m.post(t, "/moto-api/reset", "")
}

// EnforceIAM makes moto check IAM policies from now on (after
// afterActions more unchecked calls): requests signed with an IAM user's
// keys get AccessDenied for what the user's policies do not allow. -1
// turns checking off again.
func (m *Moto) EnforceIAM(t testing.TB, afterActions int) {
	t.Helper()
	v := fmt.Sprint(afterActions)
	if afterActions < 0 {
		v = "inf"
	}
	m.post(t, "/moto-api/reset-auth", v)
}

func (m *Moto) post(t testing.TB, path, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.URL+path, strings.NewReader(body))
	// moto reads the raw body; a form content type would make Flask eat it.
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("moto %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
		t.Fatalf("moto %s: %s: %s", path, resp.Status, b)
	}
}

// IsolateAWS keeps the SDK away from the developer's AWS files and the
// instance metadata service for the rest of t; keys, when given, are the
// environment's.
func IsolateAWS(t testing.TB, keyID, secret string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": keyID, "AWS_SECRET_ACCESS_KEY": secret,
		"AWS_SESSION_TOKEN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": ""} {
		t.Setenv(k, v)
	}
}
