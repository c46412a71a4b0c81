package record

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Markdown writes the timeline as a Markdown table ready to paste into a
// postmortem: time in UTC and relative to the first entry, source, what,
// who. Damaged journal lines and notes follow the table, never dropped.
func (t *Timeline) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("## Incident timeline\n\n")
	if len(t.Entries) == 0 {
		b.WriteString("No entries")
		b.WriteString(rangeText(t.Since, t.Until))
		b.WriteString(".\n")
	} else {
		first, last := t.Entries[0].Time.UTC(), t.Entries[len(t.Entries)-1].Time.UTC()
		oneDay := first.Format(time.DateOnly) == last.Format(time.DateOnly)
		to := last.Format("2006-01-02 15:04:05")
		if oneDay {
			to = last.Format("15:04:05")
		}
		fmt.Fprintf(&b, "%s to %s UTC, %d entries%s. T+ counts from the first entry.\n\n",
			first.Format("2006-01-02 15:04:05"), to, len(t.Entries), filterText(t.Since, t.Until))
		b.WriteString("| Time (UTC) | T+ | Source | What | Who |\n")
		b.WriteString("| --- | --- | --- | --- | --- |\n")
		for _, e := range t.Entries {
			ts := e.Time.UTC().Format("15:04:05")
			if !oneDay {
				ts = e.Time.UTC().Format("2006-01-02 15:04:05")
			}
			what := cell(e.What)
			if e.Note != "" {
				what += " — _" + cell(e.Note) + "_"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", ts, e.Rel, cell(e.Source), what, cell(e.Who))
		}
	}
	if t.EventsPath != "" || t.AuditPath != "" {
		b.WriteString("\nFrom")
		sep := " "
		if t.EventsPath != "" {
			b.WriteString(" events " + codeSpan(t.EventsPath))
			sep = " and "
		}
		if t.AuditPath != "" {
			b.WriteString(sep + "audit " + codeSpan(t.AuditPath))
		}
		b.WriteString(".\n")
	}
	for _, n := range t.Notes {
		b.WriteString("\n> Note: " + cell(n) + "\n")
	}
	if len(t.Damaged) > 0 {
		fmt.Fprintf(&b, "\n> **%d damaged journal line(s) not shown:**\n", len(t.Damaged))
		for _, d := range t.Damaged {
			b.WriteString("> - " + d.markdown() + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Lines is the timeline as text for a terminal, one line per entry
// (time in UTC, T+, source, what, a correlation after a dash, who in
// parentheses), after a line saying the span, and followed by the notes
// and the damaged lines: the Markdown's content without the table. The
// cockpit's timeline view shows it.
func (t *Timeline) Lines() []string {
	var out []string
	if len(t.Entries) == 0 {
		out = append(out, "No entries"+rangeText(t.Since, t.Until)+".")
	} else {
		first, last := t.Entries[0].Time.UTC(), t.Entries[len(t.Entries)-1].Time.UTC()
		oneDay := first.Format(time.DateOnly) == last.Format(time.DateOnly)
		out = append(out, fmt.Sprintf("%s to %s UTC, %d entries%s.", first.Format("2006-01-02 15:04:05"), last.Format("15:04:05"), len(t.Entries), filterText(t.Since, t.Until)))
		for _, e := range t.Entries {
			ts := e.Time.UTC().Format("15:04:05")
			if !oneDay {
				ts = e.Time.UTC().Format("01-02 15:04:05")
			}
			line := fmt.Sprintf("%s %-8s %-10s %s", ts, e.Rel, e.Source, e.What)
			if e.Note != "" {
				line += " — " + e.Note
			}
			if e.Who != "" {
				line += " (" + e.Who + ")"
			}
			out = append(out, line)
		}
	}
	for _, n := range t.Notes {
		out = append(out, "Note: "+n)
	}
	if len(t.Damaged) > 0 {
		out = append(out, fmt.Sprintf("%d damaged journal line(s) not shown:", len(t.Damaged)))
		for _, d := range t.Damaged {
			out = append(out, "  "+d.String())
		}
	}
	return out
}

// String is one line for a person: where, which line, why, and the text.
func (d DamagedLine) String() string {
	return fmt.Sprintf("%s %s: %s: `%s`", d.Path, d.where(), d.Err, strings.ReplaceAll(d.Text, "`", "'"))
}

// where is "line 7 (byte 1704)", or "byte 1704" when the line was reached
// by seeking and its number is not known.
func (d DamagedLine) where() string {
	if d.Line <= 0 {
		return fmt.Sprintf("byte %d", d.Offset)
	}
	return fmt.Sprintf("line %d (byte %d)", d.Line, d.Offset)
}

// markdown is String for a Markdown list item: the path and the excerpt in
// code spans, the reason escaped.
func (d DamagedLine) markdown() string {
	return fmt.Sprintf("%s %s: %s: %s", codeSpan(d.Path), d.where(), cell(d.Err), codeSpan(d.Text))
}

// JSON writes the timeline as one indented JSON document.
func (t *Timeline) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if t.Entries == nil {
		c := *t
		c.Entries = []Entry{}
		return enc.Encode(&c)
	}
	return enc.Encode(t)
}

// markdownText makes text from outside render as that text in Markdown,
// never as markup: an alert summary holding `<img src=x onerror=…>`, an
// unclosed `<details>` or `[click](javascript:…)` must reach a postmortem
// as characters to read, not as HTML or a link to follow. Backslash
// escapes cover what CommonMark lets them (brackets, backticks, pipes);
// angle brackets and ampersands become entities, since a backslash before
// `<` is not honoured inside raw HTML detection everywhere.
var markdownText = strings.NewReplacer(
	`\`, `\\`,
	"`", "\\`",
	"[", `\[`,
	"]", `\]`,
	"|", `\|`,
	"&", "&amp;",
	"<", "&lt;",
	">", "&gt;",
	"\r\n", " ",
	"\n", " ",
	"\r", " ",
)

// cell makes text safe inside a Markdown table cell: literal, one line.
func cell(s string) string { return markdownText.Replace(s) }

// codeSpan puts text in a Markdown code span, where nothing is markup,
// with a fence longer than any run of backticks inside it.
func codeSpan(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		// A space pads the fence away from a backtick at either end; one
		// space each side is stripped again when rendered.
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

func rangeText(since, until time.Time) string {
	switch {
	case !since.IsZero() && !until.IsZero():
		return " between " + since.UTC().Format(time.DateTime) + " and " + until.UTC().Format(time.DateTime) + " UTC"
	case !since.IsZero():
		return " since " + since.UTC().Format(time.DateTime) + " UTC"
	case !until.IsZero():
		return " until " + until.UTC().Format(time.DateTime) + " UTC"
	}
	return ""
}

func filterText(since, until time.Time) string {
	if r := rangeText(since, until); r != "" {
		return " (filtered:" + r + ")"
	}
	return ""
}
