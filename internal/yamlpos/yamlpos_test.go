package yamlpos

import (
	"errors"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		line               int
		scope, field, want string
	}{
		{0, "", "", "f.yaml: bad"},
		{7, "", "", "f.yaml:7: bad"},
		{7, "", "a.b", "f.yaml:7: a.b: bad"},
		{7, `step 2 "X"`, "expr", `f.yaml:7: step 2 "X": expr: bad`},
	} {
		if got := Format("f.yaml", tc.line, tc.scope, tc.field, "bad"); got != tc.want {
			t.Errorf("Format(%d, %q, %q) = %q, want %q", tc.line, tc.scope, tc.field, got, tc.want)
		}
	}
}

func TestLines(t *testing.T) {
	got := Lines([]error{errors.New("a"), errors.New("b")})
	if got != "a\nb" {
		t.Errorf("Lines = %q", got)
	}
}

// TestSyntax reads the line out of a real yaml.v3 error.
func TestSyntax(t *testing.T) {
	var n yaml.Node
	err := yaml.Unmarshal([]byte("a: 1\nb: c: d\n"), &n)
	if err == nil {
		t.Fatal("yaml accepted a: b: c")
	}
	line, msg := Syntax(err)
	if line != 2 || msg != "YAML syntax: mapping values are not allowed in this context" {
		t.Errorf("Syntax = %d, %q", line, msg)
	}
	if line, msg := Syntax(errors.New("yaml: did not find expected key")); line != 0 || msg != "YAML syntax: yaml: did not find expected key" {
		t.Errorf("Syntax without a line = %d, %q", line, msg)
	}
}

// TestTypeErrorLine reads the line out of a real *yaml.TypeError.
func TestTypeErrorLine(t *testing.T) {
	var v struct{ N int }
	err := yaml.Unmarshal([]byte("\nn: five\n"), &v)
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) != 1 {
		t.Fatalf("want one type error, got %v", err)
	}
	line, msg := TypeErrorLine(te.Errors[0])
	if line != 2 || msg != "cannot unmarshal !!str `five` into int" {
		t.Errorf("TypeErrorLine = %d, %q", line, msg)
	}
}

func TestJoin(t *testing.T) {
	if got := Join("", "a"); got != "a" {
		t.Errorf("Join root = %q", got)
	}
	if got := Join("a.b", "c"); got != "a.b.c" {
		t.Errorf("Join = %q", got)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"steps", "symptoms", "name"}
	if got := Suggest("symptom", known, "one of "); got != ` (did you mean "symptoms"?)` {
		t.Errorf("close name: %q", got)
	}
	if got := Suggest("zzzzzz", known, "known keys: "); got != " (known keys: name, steps, symptoms)" {
		t.Errorf("far name: %q", got)
	}
	if known[0] != "steps" {
		t.Errorf("Suggest sorted the caller's slice: %v", known)
	}
}
