package testsrv

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// MotoTaskFix is a proxy in front of moto that answers a task's and its
// containers' cpu as ECS does, a string: moto 5.2.1 sends a number, which
// the SDK refuses to read ("expected string, got 0"), so without it no
// DescribeTasks answer can be read. Only the task operations' answers are
// touched (a container definition's cpu is a number). Closed when the
// test ends; returns its URL.
func MotoTaskFix(t testing.TB, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	cpu := regexp.MustCompile(`"cpu": ?(\d+)`)
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(r *http.Response) error {
		op := r.Request.Header.Get("X-Amz-Target")
		if !strings.HasSuffix(op, ".RunTask") && !strings.HasSuffix(op, ".DescribeTasks") && !strings.HasSuffix(op, ".StopTask") {
			return nil
		}
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		b = cpu.ReplaceAll(b, []byte(`"cpu": "$1"`))
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL
}
