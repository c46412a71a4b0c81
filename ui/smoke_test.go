package ui

import (
	"fmt"
	"os"
	"testing"
)

func TestSmokePrint(t *testing.T) {
	if os.Getenv("SMOKE") == "" {
		t.Skip()
	}
	e := newEnv(t, false)
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		m := e.model(sz[0], sz[1])
		for _, k := range []string{"1", "2", "3", "4"} {
			m, _ = press(m, k)
			fmt.Println(plain(m))
		}
	}
}
