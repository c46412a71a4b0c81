package errchain

import (
	"errors"
	"fmt"
	"testing"
)

func TestRootCause(t *testing.T) {
	root := errors.New("connection refused")
	other := errors.New("first")
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"bare", root, root},
		{"wrapped twice", fmt.Errorf("op: %w", fmt.Errorf("request 7: %w", root)), root},
		{"joined: the last", errors.Join(other, fmt.Errorf("dial: %w", root)), root},
		{"nil", nil, nil},
	} {
		if got := Root(tc.err); got != tc.want {
			t.Errorf("%s: Root = %v, want %v", tc.name, got, tc.want)
		}
	}
}
