package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"flightdeck/internal/sanitize"
)

// maxBreakGlassReason bounds the typed reason: one line for the journal,
// the header and the notifications.
const maxBreakGlassReason = 200

// askBreakGlass asks, on the terminal before the cockpit starts, why this
// session runs without the two-person rule's co-signer: the typed reason
// is journaled and announced. An empty answer (or none) starts nothing.
func askBreakGlass(in io.Reader, out io.Writer) (string, error) {
	fmt.Fprint(out, "BREAK-GLASS: actions the two-person rule covers will run on your confirmation alone.\n"+
		"They are journaled and announced with your reason. Reason (one line): ")
	line, err := bufio.NewReaderSize(io.LimitReader(in, 4096), 4096).ReadString('\n')
	if err != nil && line == "" {
		return "", &exitError{code: 1, msg: "flightdeck: --break-glass needs a reason typed on the terminal"}
	}
	reason := strings.Join(strings.Fields(sanitize.Text(line)), " ")
	if reason == "" {
		return "", &exitError{code: 1, msg: "flightdeck: --break-glass needs a reason; nothing started"}
	}
	if r := []rune(reason); len(r) > maxBreakGlassReason {
		reason = string(r[:maxBreakGlassReason-1]) + "…"
	}
	return reason, nil
}
