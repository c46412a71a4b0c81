package kit

import (
	"strings"
	"testing"

	"flightdeck/themes"
)

func testTable() Table {
	return Table{
		Cols: []Col{
			{Title: "NAME", W: 8},
			{Title: "A", W: 5, Gap: 1},
			{Title: "B", W: 6, Gap: 1, Right: true},
			{Title: "C", W: 4, Gap: 1},
			{Title: "REST", W: 4, Gap: 1},
		},
		Steps: []Step{{Kind: Show, Col: 2}, {Kind: Show, Col: 1}, {Kind: Grow, Col: 0, To: 12}, {Kind: Show, Col: 3}},
		Fill:  4,
		Want:  []int{10, 0, 0, 0, 0},
	}
}

func shown(t *Table) []int {
	var out []int
	for i := range t.Cols {
		out = append(out, t.Width(i))
	}
	return out
}

// TestTableFit: columns show in their steps' order and give way in it, a
// column grows towards its text before later ones show, the fill takes
// what is left, and every line is exactly the width asked for.
func TestTableFit(t *testing.T) {
	for _, c := range []struct {
		w    int
		want []int
	}{
		{40, []int{10, 5, 6, 4, 11}}, // all shown, NAME at its text, the rest to REST
		{33, []int{10, 5, 6, 4, 4}},  // exactly everything
		{32, []int{10, 5, 6, 0, 8}},  // C gives way after NAME grew
		{27, []int{9, 5, 6, 0, 4}},   // NAME grows as far as there is room
		{25, []int{10, 0, 6, 0, 7}},  // A gives way first
		{20, []int{8, 0, 6, 0, 4}},   // no room to grow
		{13, []int{8, 0, 0, 0, 4}},   // B too
	} {
		tb := testTable()
		tb.Fit(c.w, "…")
		if got := shown(&tb); !equal(got, c.want) {
			t.Errorf("width %d: widths %v, want %v", c.w, got, c.want)
		}
		if c.w >= 25 {
			if got := Width(tb.Header(themes.Paint{})); got != c.w {
				t.Errorf("width %d: header %d cells", c.w, got)
			}
		}
	}
	// A column too wide gives way alone: a narrower one ranked after it
	// still shows; InOrder keeps it hidden too.
	tb := testTable()
	tb.Cols[1].W = 30
	tb.Fit(30, "…")
	if got := shown(&tb); got[1] != 0 || got[3] != 4 || got[2] != 6 {
		t.Errorf("give-way: %v", got)
	}
	tb.InOrder = true
	tb.Fit(30, "…")
	if got := shown(&tb); got[1] != 0 || got[3] != 0 || got[2] != 6 {
		t.Errorf("in-order give-way: %v", got)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTableRoomyAndPad: a roomy table takes the columns' roomy widths
// (showing the roomy-only ones) and widens its gaps; Pad widens whatever
// the text.
func TestTableRoomyAndPad(t *testing.T) {
	tb := Table{
		Cols:    []Col{{W: 4, Roomy: 6}, {Roomy: 3, Gap: 1}, {W: 2, Gap: 1}},
		Steps:   []Step{{Kind: Pad, Col: 2, To: 5}},
		Fill:    -1,
		RoomyAt: 20, Spread: 1,
	}
	tb.Fit(19, "…")
	if got := shown(&tb); !equal(got, []int{4, 0, 5}) {
		t.Errorf("narrow: %v", got)
	}
	tb.Fit(20, "…")
	if got := shown(&tb); !equal(got, []int{6, 3, 5}) {
		t.Errorf("roomy: %v", got)
	}
	c := tb.Cells()
	c[0].Text, c[1].Text, c[2].Text = "abcdefgh", "x", "y"
	if got := tb.Row(c, nil, nil); got != "abcde…  x    y    " {
		t.Errorf("roomy row %q", got)
	}
}

// TestTableNames: a name column whose widest name cannot fit drops the
// prefix every name shares, and says which.
func TestTableNames(t *testing.T) {
	names := []string{"nudgecampaign-api", "nudgecampaign-worker"}
	pre := SharedPrefix(names)
	tb := Table{Cols: []Col{{W: 6, Cut: KeepEnds}, {W: 4, Gap: 1}}, Fill: 1, Steps: []Step{{Kind: Grow, Col: 0}}, Want: []int{20, 0}}
	tb.Names(0, pre, Width("…worker"))
	tb.Fit(30, "…")
	if tb.Trimmed(0) != "" || tb.Width(0) != 20 {
		t.Errorf("wide: trimmed %q width %d", tb.Trimmed(0), tb.Width(0))
	}
	tb.Fit(20, "…")
	if tb.Trimmed(0) != pre || tb.Width(0) != Width(pre+"…") {
		t.Errorf("narrow: trimmed %q width %d", tb.Trimmed(0), tb.Width(0))
	}
	if got := TrimName(names[1], tb.Trimmed(0), "…"); got != "…worker" {
		t.Errorf("TrimName %q", got)
	}
}

// TestSharedPrefix: only a prefix that ends at a word boundary and leaves
// every name something is dropped.
func TestSharedPrefix(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"nudgecampaign-api", "nudgecampaign-worker", "nudgecampaign-web"}, "nudgecampaign-"},
		{[]string{"checkout-api-eu", "checkout-api-us"}, "checkout-api-"},
		{[]string{"api", "app"}, ""},
		{[]string{"nudge", "nudge-api"}, ""},
		{[]string{"only-one"}, ""},
		{[]string{"a.b.c", "a.b.d"}, "a.b."},
	} {
		if got := SharedPrefix(c.names); got != c.want {
			t.Errorf("SharedPrefix(%q) = %q, want %q", c.names, got, c.want)
		}
	}
}

// TestTableTellsCollisionsApart: rows whose cells read alike on screen
// (the same text, or texts cut to the same) show the tag of their ID;
// rows that differ show none; rows whose IDs are alike too are numbered.
func TestTableTellsCollisionsApart(t *testing.T) {
	tb := Table{Cols: []Col{{W: 16, Cut: KeepTail}, {W: 3, Gap: 1}}, Fill: -1}
	tb.Fit(20, "…")
	add := func(name, id string) {
		c := tb.Cells()
		c[0] = Cell{Text: name, ID: id}
		c[1].Text = "x"
		tb.Add(c, nil, nil)
	}
	add("prod/svc", "arn:1")
	add("prod/svc", "arn:2")
	add("prod/other", "arn:3")
	add("a-very-long-prefix/cut-api", "arn:4") // both cut to the same tail
	add("another-long-prefix/cut-api", "arn:5")
	add("twin", "same")
	add("twin", "same")
	lines := tb.Lines(nil)
	want := []string{
		"prod/svc " + Tell("arn:1") + "   x  ",
		"prod/svc " + Tell("arn:2") + "   x  ",
		"prod/other       x  ",
		"…x/cut-api " + Tell("arn:4") + " x  ",
		"…x/cut-api " + Tell("arn:5") + " x  ",
		"twin " + Tell("same") + " 1     x  ",
		"twin " + Tell("same") + " 2     x  ",
	}
	for i := range want {
		if i >= len(lines) || lines[i] != want[i] {
			t.Fatalf("lines\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
	}
	if Tell("arn:1") == Tell("arn:1\u202e") || len(Tell("x")) != 5 {
		t.Errorf("Tell does not tell raw identities apart: %s %s", Tell("arn:1"), Tell("arn:1\u202e"))
	}
	if got := tb.Lines(nil); len(got) != 0 {
		t.Errorf("Lines did not reset: %q", got)
	}
}

// TestTableRowPaints: a whole-row paint wraps the line once; otherwise a
// painted cell interrupts the row's base paint.
func TestTableRowPaints(t *testing.T) {
	tb := Table{Cols: []Col{{W: 3}, {W: 3, Gap: 1}}, Fill: -1}
	tb.Fit(7, "…")
	red, base := themes.Paint{Prefix: "<r>", Suffix: "</r>"}, themes.Paint{Prefix: "<b>", Suffix: "</b>"}
	c := tb.Cells()
	c[0] = Cell{Text: "a", Paint: &red}
	c[1].Text = "b"
	if got := tb.Row(c, &base, nil); got != "<b>a   b  </b>" {
		t.Errorf("whole: %q", got)
	}
	if got := tb.Row(c, nil, &base); got != "<b><r>a  </r><b> b  </b>" {
		t.Errorf("cells: %q", got)
	}
}

// BenchmarkTableLines: a screenful of rows through Add and Lines costs a
// string per line once the table's buffers have grown.
func BenchmarkTableLines(b *testing.B) {
	tb := testTable()
	tb.Fit(120, "…")
	out := make([]string, 0, 50)
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < 50; i++ {
			c := tb.Cells()
			c[0] = Cell{Text: "service-name", ID: "arn:aws:ecs:us-east-1:111122223333:service/prod/service-name"}
			c[1].Text, c[2].Text, c[3].Text, c[4].Text = "aa", "bb", "cc", "the rest of the row"
			tb.Add(c, nil, nil)
		}
		out = tb.Lines(out[:0])
	}
}

// A title too wide for its column shows its short form, whole, rather
// than a cut word ("BURN TR…"); without one, or too wide even so, it is
// cut at its end (issue 17 item 8).
func TestTableHeaderShortTitles(t *testing.T) {
	tb := Table{Cols: []Col{
		{Title: "NAME", W: 6},
		{Title: "BURN TREND", Short: "TREND", W: 1, Gap: 1},
	}, Fill: 1}
	for _, c := range []struct {
		w    int
		want string
	}{
		{20, "NAME   BURN TREND   "},
		{15, "NAME   TREND   "},
		{12, "NAME   TREND"},
		{10, "NAME   TR…"},
	} {
		tb.Fit(c.w, "…")
		if got := tb.Header(themes.Paint{}); got != c.want {
			t.Errorf("width %d: header %q, want %q", c.w, got, c.want)
		}
	}
	tb.Cols[1].Short = ""
	tb.Fit(15, "…")
	if got := tb.Header(themes.Paint{}); got != "NAME   BURN TR…" {
		t.Errorf("no short form: header %q", got)
	}
}
