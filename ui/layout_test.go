package ui

import (
	"testing"

	"flightdeck/sources"
)

func TestRolloutLabelKeepsTheName(t *testing.T) {
	d := &sources.Deployment{Namespace: "production", Name: "nudgecampaign-api"}
	p := &rolloutsPane{}
	cases := []struct {
		w    int
		want string
	}{
		{40, "production/nudgecampaign-api"},
		{24, "produ…/nudgecampaign-api"},
		{19, "nudgecampaign-api"}, // no room for any of the namespace
	}
	for _, tc := range cases {
		if got := p.label(d, tc.w); got != tc.want {
			t.Errorf("label(w=%d) = %q, want %q", tc.w, got, tc.want)
		}
	}
	p.oneNS = "production"
	if got := p.label(d, 10); got != "nudgecampaign-api" {
		t.Errorf("single namespace: %q", got)
	}
}

func TestPgLayoutWidensNames(t *testing.T) {
	want := map[pgCol]int{colApp: 25, colUser: 17}
	width := func(cols []pgColumn, id pgCol) int {
		for _, c := range cols {
			if c.id == id {
				return c.w
			}
		}
		return -1
	}
	// Fixed columns take 99 cells. At 128 there is no room for a longer
	// app name unless the client column goes, so it goes.
	mid := pgLayout(128, want)
	if width(mid, colClient) != -1 || width(mid, colApp) != pgColW[colApp]+5 || width(mid, colQuery) != pgRoomyQuery {
		t.Errorf("128 cols: client %d app %d query %d", width(mid, colClient), width(mid, colApp), width(mid, colQuery))
	}
	// Wide: every name whole, client kept, the rest to the query.
	wide := pgLayout(200, want)
	if width(wide, colApp) != 25 || width(wide, colUser) != 17 || width(wide, colClient) != pgColW[colClient] ||
		width(wide, colQuery) != 200-99-12-6 {
		t.Errorf("200 cols: app %d user %d query %d", width(wide, colApp), width(wide, colUser), width(wide, colQuery))
	}
	// Names that fit the fixed widths change nothing.
	short := pgLayout(128, map[pgCol]int{colApp: 8, colUser: 5})
	if width(short, colClient) != pgColW[colClient] || width(short, colApp) != pgColW[colApp] {
		t.Errorf("short names: %+v", short)
	}
}
