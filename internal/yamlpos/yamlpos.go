// Package yamlpos is what config and runbook share to report a problem in
// a YAML file the way both do: "file:line: field: problem", with the line
// yaml.v3 buries in its own messages and a "did you mean" hint for a
// misspelt name. Each package keeps its own Error type (the runbook's
// names the step too); this is the one place the format and the hint live.
package yamlpos

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Format renders "file:line: scope: field: msg". A line of 0 is left out,
// as are an empty scope and an empty field; scope is what the file is
// divided into above fields (a runbook's `step 3 "Title"`).
func Format(file string, line int, scope, field, msg string) string {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		b.WriteString(":" + strconv.Itoa(line))
	}
	b.WriteString(": ")
	if scope != "" {
		b.WriteString(scope + ": ")
	}
	if field != "" {
		b.WriteString(field + ": ")
	}
	b.WriteString(msg)
	return b.String()
}

// Lines joins the messages of several problems, one a line.
func Lines[E error](es []E) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Syntax splits a yaml.v3 parse error ("yaml: line 7: mapping values are
// not allowed in this context") into its line (0 when it names none) and
// the message to show: "YAML syntax: mapping values are not allowed ...".
func Syntax(err error) (line int, msg string) {
	line, msg = cutLine(err.Error(), "yaml: line ")
	return line, "YAML syntax: " + msg
}

// TypeErrorLine splits one message of a *yaml.TypeError ("line 4: cannot
// unmarshal !!str `five` into int") into its line (0 when it names none)
// and the rest.
func TypeErrorLine(m string) (line int, msg string) {
	return cutLine(m, "line ")
}

func cutLine(msg, prefix string) (int, string) {
	rest, ok := strings.CutPrefix(msg, prefix)
	if !ok {
		return 0, msg
	}
	i := strings.IndexByte(rest, ':')
	if i <= 0 {
		return 0, msg
	}
	line, _ := strconv.Atoi(rest[:i])
	return line, strings.TrimSpace(rest[i+1:])
}

// Join is the dotted path of key under path ("prometheus" + "url" is
// "prometheus.url").
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Suggest is the hint after a name that is not one of known: ` (did you
// mean "x"?)` for the closest within two edits, else every known name,
// sorted, after listing (" (known keys: a, b)" for listing "known keys: ").
func Suggest(got string, known []string, listing string) string {
	names := slices.Clone(known)
	slices.Sort(names)
	best, bestD := "", 3
	for _, k := range names {
		if d := editDistance(got, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (" + listing + strings.Join(names, ", ") + ")"
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
