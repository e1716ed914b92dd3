package task

import "testing"

func TestString(t *testing.T) {
	for _, c := range []struct {
		in   Task
		want string
	}{
		{Task{1, 2}, "1/2"},
		{Task{EnterpriseID: 1234567890123, TaskID: 9}, "1234567890123/9"},
		{Task{}, "0/0"},
	} {
		if got := c.in.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.in, got, c.want)
		}
	}
}
