package sources

import (
	"regexp"
	"strings"
)

// LogLevel is how bad a log line looks: the log view's highlight and what
// runbook log counts call an error. One rule for both.
type LogLevel uint8

// The levels, quietest first.
const (
	LogLevelNone  LogLevel = iota
	LogLevelError          // "error", an HTTP 5xx status
	LogLevelCrit           // panic, fatal, OOM
)

// ClassifyLogLine is a line's level. It looks for words,
// case-insensitively, without regular expressions: it runs on every line
// that arrives (a thousand a second when following a busy deployment).
func ClassifyLogLine(text string) LogLevel {
	lv := LogLevelNone
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case isDigit(c):
			j := i
			for j < len(text) && isDigit(text[j]) {
				j++
			}
			// A 5xx status: three digits alone ("took 503ms" is not one).
			if j-i == 3 && c == '5' && (i == 0 || !isWord(text[i-1])) && (j == len(text) || !isWord(text[j])) {
				lv = LogLevelError
			}
			i = j
		case isLetter(c):
			j := i
			for j < len(text) && isLetter(text[j]) {
				j++
			}
			w := text[i:j]
			switch {
			case (i > 0 && isDigit(text[i-1])) || (j < len(text) && isDigit(text[j])):
				// part of an identifier ("v5err2"), not a word
			case foldIs(w, "panic"), foldIs(w, "fatal"), foldIs(w, "oom"), foldIs(w, "oomkilled"), foldIs(w, "outofmemory"):
				return LogLevelCrit
			case foldIs(w, "memory") && i >= 7 && foldIs(text[i-7:i], "out of "):
				return LogLevelCrit
			case foldIs(w, "error"), foldIs(w, "err"), foldIs(w, "exception"):
				lv = LogLevelError
			}
			i = j
		default:
			i++
		}
	}
	return lv
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isWord(c byte) bool   { return isDigit(c) || isLetter(c) || c == '_' }

// foldIs is ASCII case-insensitive equality with a lower-case word.
func foldIs(s, word string) bool {
	if len(s) != len(word) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i]|0x20 != word[i] {
			return false
		}
	}
	return true
}

// ParseLogFilter parses a log filter as the log view and runbooks write
// it: a regular expression between slashes ("/5\d\d/"), else a substring
// matched case-insensitively. "" is no filter (nil).
func ParseLogFilter(f string) (*regexp.Regexp, error) {
	if f == "" {
		return nil, nil
	}
	if len(f) >= 2 && strings.HasPrefix(f, "/") && strings.HasSuffix(f, "/") {
		return regexp.Compile(f[1 : len(f)-1])
	}
	return regexp.MustCompile("(?i)" + regexp.QuoteMeta(f)), nil
}
