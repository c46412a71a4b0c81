// Package cli is how flightdeck's commands describe themselves: help on
// stdout in the shape a Go CLI user expects (usage, what it does, --flags,
// examples, the environment it reads) and the version, from the Makefile's
// ldflags or else from the build's own VCS stamp. main keeps the flags and
// exit codes; this package only words them.
package cli

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Command is one command's help.
type Command struct {
	// Name is how it is invoked: "flightdeck", "flightdeck serve".
	Name string
	// Summary is one line for the command list.
	Summary string
	// Usage are synopsis lines, without the "Usage:" heading.
	Usage []string
	// About says what the command does, a paragraph or two.
	About string
	// Examples are command lines, each with an optional "  # comment".
	Examples []string
	// Flags are printed with --long spelling; nil prints none.
	Flags *flag.FlagSet
	// Commands, for the top level, are listed with their Summary.
	Commands []Command
}

// Environment is what flightdeck reads from its environment, for help.
var Environment = [][2]string{
	{"FLIGHTDECK_CONFIG", "config file when --config is not given"},
	{"XDG_CONFIG_HOME", "default config: $XDG_CONFIG_HOME/flightdeck/config.yaml"},
	{"XDG_STATE_HOME", "default journals: $XDG_STATE_HOME/flightdeck/"},
	{"FLIGHTDECK_DEMO_SPEED", "how fast the demo incident runs (1 = real time, e.g. 4)"},
	{"TERM, COLORTERM, NO_COLOR", "what the terminal can show; NO_COLOR turns colour off"},
	{"PGHOST, PGUSER, PGPASSFILE, PGSERVICE, ...", "libpq's, for a postgres entry with an empty dsn"},
	{"KUBECONFIG", "kubeconfig files when kubernetes.kubeconfig is not set"},
	{"AWS_PROFILE, AWS_REGION, ...", "the AWS SDK's usual credential and region chain"},
}

// Help writes c's help to w.
func (c Command) Help(w io.Writer) {
	var b strings.Builder
	if c.Summary != "" {
		fmt.Fprintf(&b, "%s: %s\n\n", c.Name, c.Summary)
	}
	b.WriteString("Usage:\n")
	for _, u := range c.Usage {
		fmt.Fprintf(&b, "  %s\n", u)
	}
	if c.About != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(c.About))
	}
	if len(c.Commands) > 0 {
		b.WriteString("\nCommands:\n")
		width := 0
		for _, s := range c.Commands {
			width = max(width, len(s.Name))
		}
		for _, s := range c.Commands {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, s.Name, s.Summary)
		}
	}
	if c.Flags != nil {
		if flags := Flags(c.Flags); flags != "" {
			b.WriteString("\nFlags:\n" + flags)
		}
	}
	if len(c.Examples) > 0 {
		b.WriteString("\nExamples:\n")
		for _, e := range c.Examples {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	b.WriteString("\nEnvironment:\n")
	width := 0
	for _, e := range Environment {
		width = max(width, len(e[0]))
	}
	for _, e := range Environment {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, e[0], e[1])
	}
	io.WriteString(w, b.String())
}

// Flags lists fs's flags the way GNU-style tools do: --name VALUE, then the
// text and the default. (Go's flag package accepts both -name and --name;
// only the spelling shown changes.)
func Flags(fs *flag.FlagSet) string {
	type row struct{ left, text string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if name != "" {
			left += " " + strings.ToUpper(name)
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			text += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		rows = append(rows, row{left, text})
		width = max(width, len(left))
	})
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, r.left, r.text)
	}
	return b.String()
}

// Version is the version to print: set (by the Makefile's ldflags from
// git describe) wins; else the module's version when built with go
// install; else the VCS revision go build stamped into a checkout's build
// (with -dirty for uncommitted changes); else "dev".
func Version(set string) string {
	if set != "" && set != "dev" {
		return set
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, when string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	v := "dev-" + rev[:min(12, len(rev))]
	if dirty {
		v += "-dirty"
	}
	if when != "" {
		v += " (" + when + ")"
	}
	return v
}
