package sanitize

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "SELECT 1", "SELECT 1"},
		{"tab kept", "a\tb", "a\tb"},
		{"newlines become one space", "SELECT *\n  FROM t\r\nWHERE x", "SELECT * FROM t WHERE x"},
		{"OSC 0 title BEL", "a\x1b]0;pwned\x07b", "ab"},
		{"OSC 2 title ST", "a\x1b]2;pwned\x1b\\b", "ab"},
		{"OSC 8 hyperlink", "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"OSC 52 clipboard", "x\x1b]52;c;cm0gLXJmIC8K\x07y", "xy"},
		{"DCS", "a\x1bPq#0;2;0;0;0#0~~\x1b\\b", "ab"},
		{"APC", "a\x1b_Gf=100;AAAA\x1b\\b", "ab"},
		{"PM and SOS", "a\x1b^secret\x1b\\b\x1bXsos\x1b\\c", "abc"},
		{"CSI colour", "\x1b[31mred\x1b[0m", "red"},
		{"CSI clear screen and cursor", "\x1b[2J\x1b[1;1Hhi\x1b[?25l", "hi"},
		{"CSI private with intermediates", "a\x1b[>4;2m\x1b[1 qb", "ab"},
		{"8-bit CSI", "a\u009b31mb", "ab"},
		{"8-bit OSC with 8-bit ST", "a\u009d0;t\u009cb", "ab"},
		{"C1 controls dropped", "a\u0085b\u0084c", "abc"},
		{"carriage return overwrite", "safe\rEVIL", "safe EVIL"},
		{"backspace", "rm -rf /\b\b\b\bls", "rm -rf /ls"},
		{"bell and NUL", "a\x07b\x00c", "abc"},
		{"DEL", "a\x7fb", "ab"},
		{"bidi override", "user\u202egnp.exe", "usergnp.exe"},
		{"bidi isolates", "\u2066a\u2069\u2067b\u2069", "ab"},
		{"zero width", "ad\u200bmin\ufeff", "admin"},
		{"ESC charset", "a\x1b(0qqq\x1b(Bb", "aqqqb"},
		{"ESC reset", "a\x1bcb", "ab"},
		{"lone ESC at end", "abc\x1b", "abc"},
		{"unterminated OSC swallows rest", "ok\x1b]0;never ends", "ok"},
		{"invalid utf8", "a\xffb", "a\ufffdb"},
		{"raw 8-bit CSI byte is invalid utf8", "a\x9b31mb", "a\ufffd31mb"},
		{"unicode kept", "café ✓ 日本", "café ✓ 日本"},
		{"line separator", "a\u2028b", "a b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// safe is the property every output must have.
func safe(s string) (bool, string) {
	if !utf8.ValidString(s) {
		return false, "invalid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == '\t':
		case r < 0x20 || r == 0x7f:
			return false, "C0/DEL"
		case r >= 0x80 && r <= 0x9f:
			return false, "C1"
		case unicode.Is(unicode.Cf, r):
			return false, "format char"
		case r == 0x2028 || r == 0x2029:
			return false, "line separator"
		}
	}
	return true, ""
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "SELECT 1", "\x1b]0;t\x07", "\x1b[31m", "\u009b1m", "\u202e", "a\r\nb", "\x1bP\x1b\\", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Text(in)
		if ok, why := safe(out); !ok {
			t.Fatalf("Text(%q) = %q: %s", in, out, why)
		}
		if again := Text(out); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", in, out, again)
		}
		if len(out) > len(in)*3+3 {
			t.Fatalf("output grew: %d → %d", len(in), len(out))
		}
	})
}

func TestTextPlainASCIIDoesNotAllocate(t *testing.T) {
	s := strings.Repeat("SELECT * FROM contacts WHERE id = 1; ", 10)
	if n := testing.AllocsPerRun(100, func() { _ = Text(s) }); n != 0 {
		t.Errorf("allocs = %v", n)
	}
}
