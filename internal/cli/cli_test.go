package cli

import (
	"bytes"
	"flag"
	"runtime/debug"
	"strings"
	"testing"
)

func TestHelpShape(t *testing.T) {
	fs := flag.NewFlagSet("flightdeck timeline", flag.ContinueOnError)
	fs.String("since", "", "from this `TIME`")
	fs.String("format", "md", "md or json")
	fs.Bool("demo", false, "the demo's journals")
	var b bytes.Buffer
	Command{Name: "flightdeck timeline", Summary: "print the incident", Usage: []string{"flightdeck timeline [--since 2h]"},
		About: "Prints the incident.", Examples: []string{"flightdeck timeline --since 1.5d"}, Flags: fs}.Help(&b)
	out := b.String()
	for _, want := range []string{"Usage:\n  flightdeck timeline [--since 2h]", "--since TIME", "--format STRING  md or json (default md)",
		"--demo ", "Examples:\n  flightdeck timeline --since 1.5d", "Environment:", "FLIGHTDECK_CONFIG", "FLIGHTDECK_DEMO_SPEED"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\n  -since") {
		t.Errorf("single-dash flag shown:\n%s", out)
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	if got := Version("v1.2.3"); got != "v1.2.3" {
		t.Errorf("ldflags version lost: %q", got)
	}
	for _, c := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "f199137abcdef0123456789"}, {Key: "vcs.modified", Value: "true"},
			{Key: "vcs.time", Value: "2026-12-06T08:00:00Z"}}}, "dev-f199137abcde-dirty (2026-12-06T08:00:00Z)"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
	} {
		if got := fromBuildInfo(&c.bi); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
