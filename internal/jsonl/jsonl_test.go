package jsonl

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type rec struct {
	N int    `json:"n"`
	S string `json:"s"`
}

func readAll(t *testing.T, path string) ([]rec, []Damage) {
	t.Helper()
	var out []rec
	damage, err := Read(path, func(_ int, raw []byte) error {
		var r rec
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, damage
}

func TestAppendRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "j.jsonl")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.Append(rec{N: i, S: "line\nbreak"}); err != nil {
			t.Fatal(err)
		}
	}
	if w.Path() != path {
		t.Errorf("Path %q", w.Path())
	}
	w.Close()
	if err := w.Append(rec{}); err == nil {
		t.Error("Append after Close succeeded")
	}
	got, damage := readAll(t, path)
	if len(got) != 3 || got[2].N != 2 || got[0].S != "line\nbreak" || len(damage) != 0 {
		t.Fatalf("got %+v damage %+v", got, damage)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
}

// A crash mid-write leaves a torn line: the reader reports it with its line
// number and offset, and the next writer starts on a fresh line.
func TestTornAndGarbledLinesReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	os.WriteFile(path, []byte(`{"n":1}`+"\n"+`garbage`+"\n\n"+`{"n":"x"}`+"\n"+`{"n":2,"s":"to`), 0o600)
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(rec{N: 3}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, damage := readAll(t, path)
	if len(got) != 2 || got[0].N != 1 || got[1].N != 3 {
		t.Errorf("records %+v", got)
	}
	if len(damage) != 3 {
		t.Fatalf("damage %+v", damage)
	}
	if damage[0].Line != 2 || damage[0].Offset != 8 || damage[0].Text != "garbage" {
		t.Errorf("garbled line: %+v", damage[0])
	}
	// A valid JSON line the caller could not decode is damage too.
	var ute *json.UnmarshalTypeError
	if damage[1].Line != 4 || !errors.As(damage[1].Err, &ute) {
		t.Errorf("undecodable line: %+v", damage[1])
	}
	if damage[2].Line != 5 || !strings.Contains(damage[2].Text, `"s":"to`) {
		t.Errorf("torn line: %+v", damage[2])
	}
}

func TestOverlongLineBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	long := `{"s":"` + strings.Repeat("a", MaxLine+10) + `"}`
	os.WriteFile(path, []byte(long+"\n"+`{"n":7}`+"\n"), 0o600)
	got, damage := readAll(t, path)
	if len(got) != 1 || got[0].N != 7 {
		t.Errorf("records %+v", got)
	}
	if len(damage) != 1 || damage[0].Line != 1 || len(damage[0].Text) > maxDamageText {
		t.Fatalf("damage %d %+v", len(damage), damage)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "none"), func(int, []byte) error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
