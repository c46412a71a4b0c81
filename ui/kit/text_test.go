package kit

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// fitRef is fit without the fast path: the reference it must agree with.
func fitRef(s string, w int, ell string) string {
	if w <= 0 {
		return ""
	}
	s = strings.ReplaceAll(s, "\t", " ")
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, ell)
	}
	if sw := ansi.StringWidth(s); sw < w {
		s += strings.Repeat(" ", w-sw)
	}
	return s
}

func checkFit(t *testing.T, s string) {
	t.Helper()
	for _, ell := range []string{"…", "~"} {
		for w := 0; w <= ansi.StringWidth(s)+2; w++ {
			got, want := Fit(s, w, ell), fitRef(s, w, ell)
			if got != want {
				t.Fatalf("Fit(%q, %d, %q) = %q, want %q", s, w, ell, got, want)
			}
			if _, _, fast := fastWidth(s); fast && ansi.StringWidth(got) != w {
				t.Fatalf("Fit(%q, %d) is %d wide", s, w, ansi.StringWidth(got))
			}
		}
	}
}

// TestFitFastPathAgrees: the fast path gives what ansi gives, for the text
// the panes draw and for random mixes of ASCII, our glyphs, wide and
// combining runes, tabs and colour sequences.
func TestFitFastPathAgrees(t *testing.T) {
	for _, s := range []string{"", "abc", "▶ ● 12m01s … UPDATE", "日本語 query", "e\u0301 combining", "tab\there",
		"\x1b[1;38;2;1;2;3mbold\x1b[m plain", "╭─ 3 Postgres ─╮", "flag 🇩🇪 emoji 👍🏽", "a\u200db"} {
		checkFit(t, s)
	}
	parts := []string{"a", "Z", " ", "…", "—", "▶", "●", "█", "é", "日", "\u0301", "\t", "\x1b[1m", "\x1b[38;5;9m", "\x1b[m", "👍", "\u200d", "\ufe0f", "·", "×"}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		var sb strings.Builder
		for j := r.Intn(12); j >= 0; j-- {
			sb.WriteString(parts[r.Intn(len(parts))])
		}
		checkFit(t, sb.String())
	}
}

// FuzzFit: fit never disagrees with the reference on any input.
func FuzzFit(f *testing.F) {
	f.Add("▶ 4711 app idle-tx", 10)
	f.Add("\x1b[1mx\x1b[m日本", 3)
	f.Fuzz(func(t *testing.T, s string, w int) {
		if w < 0 || w > 300 {
			return
		}
		if got, want := Fit(s, w, "…"), fitRef(s, w, "…"); got != want {
			t.Fatalf("Fit(%q, %d) = %q, want %q", s, w, got, want)
		}
	})
}

// TestCutMiddle: the ends stay, the result is exactly w cells, and text
// that fits is left alone.
func TestCutMiddle(t *testing.T) {
	for _, c := range []struct {
		s    string
		w    int
		want string
	}{
		{"nudgecampaign-worker", 20, "nudgecampaign-worker"},
		{"nudgecampaign-worker", 12, "nudge…worker"},
		{"nudgecampaign-api", 10, "nudg…n-api"},
		{"日本語のなまえ", 9, "日本…まえ"},
		{"abcdef", 2, "a…"},
	} {
		got := CutMiddle(c.s, c.w, "…")
		if got != c.want {
			t.Errorf("CutMiddle(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
		if ansi.StringWidth(got) > c.w {
			t.Errorf("CutMiddle(%q, %d) is %d cells", c.s, c.w, ansi.StringWidth(got))
		}
	}
}
