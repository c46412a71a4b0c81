package together

import "testing"

func TestActorString(t *testing.T) {
	for _, tc := range []struct {
		a    Actor
		want string
	}{
		{Actor{Name: "alice", Fingerprint: "SHA256:abc", Addr: "10.0.0.5:53122", Session: "7f3a09c1"}, "alice (SHA256:abc) from 10.0.0.5:53122, session 7f3a09c1"},
		{Actor{Name: "oncall@bastion", Addr: "10.0.0.5"}, "oncall@bastion from 10.0.0.5"},
		{Actor{Name: "oncall@laptop"}, "oncall@laptop"},
		{Actor{Fingerprint: "SHA256:abc"}, "unknown (SHA256:abc)"},
	} {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.a, got, tc.want)
		}
	}
}
