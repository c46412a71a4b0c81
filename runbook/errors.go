package runbook

import (
	"sort"
	"strconv"
	"strings"

	"flightdeck/internal/yamlpos"
)

// Error is one problem in a runbook file, pointing at its line and step:
// "file:line: step 3 "Kill long-running queries": backends: problem".
type Error struct {
	File string
	Line int
	// Step is the step's number from 1, 0 when the problem is not in a step.
	Step      int
	StepTitle string
	Field     string
	Msg       string
}

func (e *Error) Error() string {
	scope := ""
	if e.Step > 0 {
		scope = "step " + strconv.Itoa(e.Step)
		if e.StepTitle != "" {
			scope += " " + strconv.Quote(e.StepTitle)
		}
	}
	return yamlpos.Format(e.File, e.Line, scope, e.Field, e.Msg)
}

// Errors is every problem found, by file and line.
type Errors []*Error

func (es Errors) Error() string { return yamlpos.Lines(es) }

func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].File != es[j].File {
			return es[i].File < es[j].File
		}
		return es[i].Line < es[j].Line
	})
	return es
}

// suggest names the closest of known, or lists them all: the config's
// "did you mean" for runbook keys, panes and action kinds. Case is ignored
// in what was written.
func suggest(got string, known []string) string {
	return yamlpos.Suggest(strings.ToLower(got), known, "one of ")
}
