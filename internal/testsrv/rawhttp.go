package testsrv

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// HostileStatus is the status line of issue 11: a reason phrase carrying an
// OSC title sequence, an 8-bit CSI (U+009B) and a right-to-left override.
const HostileStatus = "HTTP/1.1 503 Svc\x1b]0;X\x07\u009b2J\u202eRLO"

// RawHTTP serves every request on a loopback port with exactly the bytes
// respond returns — status line, headers and body as written, which
// net/http's server refuses to send (control characters in a reason
// phrase, say) — and closes the connection. It returns the base URL,
// http://127.0.0.1:port; the server stops when the test ends.
func RawHTTP(t testing.TB, respond func(r *http.Request) string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				_, _ = io.WriteString(c, respond(req))
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// RawResponse is a whole HTTP/1.1 response with the given status line,
// Content-Type and body, closing the connection after it.
func RawResponse(statusLine, contentType, body string) string {
	return statusLine + "\r\nContent-Type: " + contentType + "\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// RawControls lists (quoted) the terminal controls of issue 11 found in s:
// ESC, BEL, the 8-bit CSI U+009B and the right-to-left override U+202E.
// Text that went through sanitize.Text holds none of them.
func RawControls(s string) []string {
	var found []string
	for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e"} {
		if strings.Contains(s, bad) {
			found = append(found, strconv.QuoteToASCII(bad))
		}
	}
	return found
}
