package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"flightdeck/internal/sanitize"
)

// maxBreakGlassReason bounds the typed reason: one line for the journal,
// the header and the notifications.
const maxBreakGlassReason = 200

// AskBreakGlass asks, on the terminal before the cockpit starts, why this
// session runs without the two-person rule's co-signer: the typed reason
// is journaled and announced. An empty answer (or none) starts nothing.
func AskBreakGlass(in io.Reader, out io.Writer) (string, error) {
	fmt.Fprint(out, "BREAK-GLASS: actions the two-person rule covers will run on your confirmation alone.\n"+
		"They are journaled and announced with your reason. Reason (one line): ")
	line, err := bufio.NewReaderSize(io.LimitReader(in, 4096), 4096).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("--break-glass needs a reason typed on the terminal")
	}
	reason := strings.Join(strings.Fields(sanitize.Text(line)), " ")
	if reason == "" {
		return "", errors.New("--break-glass needs a reason; nothing started")
	}
	if r := []rune(reason); len(r) > maxBreakGlassReason {
		reason = string(r[:maxBreakGlassReason-1]) + "…"
	}
	return reason, nil
}
