package cli

import (
	"strings"
	"testing"
)

func TestAskBreakGlassNeedsAReason(t *testing.T) {
	var out strings.Builder
	got, err := AskBreakGlass(strings.NewReader("  serve is down \x1b[31mon the bastion\n"), &out)
	if err != nil || got != "serve is down on the bastion" || !strings.Contains(out.String(), "Reason") {
		t.Fatalf("reason %q, %v", got, err)
	}
	for _, in := range []string{"", "\n", "   \x07\n"} {
		if _, err := AskBreakGlass(strings.NewReader(in), &out); err == nil {
			t.Errorf("%q accepted as a reason", in)
		}
	}
	long, _ := AskBreakGlass(strings.NewReader(strings.Repeat("x", 1000)+"\n"), &out)
	if len([]rune(long)) != maxBreakGlassReason {
		t.Errorf("reason of %d runes kept", len([]rune(long)))
	}
}
