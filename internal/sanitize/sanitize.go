// Package sanitize makes outside text safe for a terminal. Backends call it
// once, at ingestion; config and journals use it for what reaches the screen.
package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text makes untrusted text (query text, application names, alert labels
// and annotations, change-causes, image names) safe to put on a terminal. It is
// called once, at ingestion, by every backend; nothing from outside reaches the
// screen without passing through it.
//
// It removes whole escape sequences (CSI, OSC, DCS, SOS, PM, APC, and
// two-byte ESC sequences), in both their 7-bit (ESC-introduced) and 8-bit (C1)
// forms; every other C0 control but tab, DEL, C1 controls (U+0080–U+009F),
// and Unicode format characters (category Cf: bidi overrides and isolates,
// zero-width characters, BOM). Line breaks (\n, \r, \v, \f, U+2028, U+2029)
// become a single space (swallowing the indentation after them) so
// words stay apart; invalid UTF-8 becomes U+FFFD.
func Text(s string) string {
	if isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	lastSpace := false // a line break was just written as a space
	space := func() {
		if !lastSpace {
			b.WriteByte(' ')
			lastSpace = true
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			lastSpace = false
			i++
			continue
		}
		switch {
		case r == 0x1b: // ESC
			i = skipEscape(s, i+size)
			continue
		case r == 0x9b: // 8-bit CSI
			i = skipCSI(s, i+size)
			continue
		case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f: // OSC, DCS, SOS, PM, APC
			i = skipString(s, i+size)
			continue
		case r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x2028 || r == 0x2029:
			space()
		case (r == '\t' || r == ' ') && lastSpace:
			// indentation after a line break collapses into its space
		case r == '\t':
			b.WriteByte('\t')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			// other C0, DEL, C1: dropped
		case unicode.Is(unicode.Cf, r):
			// bidi controls, zero-width and other invisible format characters
		default:
			b.WriteString(s[i : i+size])
			lastSpace = false
		}
		i += size
	}
	return b.String()
}

// All sanitizes every element of ss in place and returns it.
func All(ss []string) []string {
	for i, s := range ss {
		ss[i] = Text(s)
	}
	return ss
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// skipEscape returns the index just past the escape sequence whose ESC ended
// just before i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// nF sequences: intermediates 0x20–0x2F then one final byte.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI skips parameter and intermediate bytes up to and including the final
// byte. A sequence broken by a control character ends there.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		case c >= 0x20 && c <= 0x3f:
			i++
		default:
			return i
		}
	}
	return i
}

// skipString skips the body of an OSC/DCS/SOS/PM/APC string up to and
// including its terminator: BEL, ESC \ (ST), or 8-bit ST (U+009C). An
// unterminated string swallows the rest of the text, as a terminal would.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i + 1
		case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c:
			return i + 2
		case s[i] == 0x9c:
			return i + 1
		}
		i++
	}
	return i
}
