package slurm

import "testing"

const testTaskID = "5b2a9ea4-1111-4111-8111-111111111111"

// TestTaskIDOf: the task id comes back from the names the bridge gives,
// and from no other name.
func TestTaskIDOf(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{JobName("notebook", testTaskID), testTaskID},
		{JobName("shell", testTaskID), testTaskID},
		{"det-notebook-" + testTaskID, testTaskID},
		{"det-notebook-abc", ""},
		{"det-" + testTaskID, ""},
		{"notebook-" + testTaskID, ""},
		{"xdet-notebook-" + testTaskID, ""},
		{"", ""},
	} {
		if got := TaskIDOf(c.name); got != c.want {
			t.Errorf("TaskIDOf(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestJobName(t *testing.T) {
	if got := JobName("notebook", testTaskID); got != "det-notebook-"+testTaskID {
		t.Errorf("got %q", got)
	}
}
