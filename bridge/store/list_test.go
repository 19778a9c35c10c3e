package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

// TestListTasks: a list holds the tasks of one type, of one owner or of
// all, oldest first, with the fields a list shows and none of the
// secrets; SQLite reads them through the list indexes without sorting.
func TestListTasks(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	base := time.Unix(1_800_000_000, 0)
	for i, x := range []struct{ id, typ, owner string }{
		{"c", "notebook", "alice"}, {"a", "notebook", "bob"}, {"d", "shell", "alice"}, {"b", "notebook", "alice"},
	} {
		task := &Task{ID: x.id, Type: x.typ, Owner: x.owner, PosixUser: x.owner, Description: "desc " + x.id, State: api.StateQueued,
			Pool: "gpu", Slots: i, Config: `{"secret":1}`, JupyterToken: "tok", Secret: "sec", JobDir: "/jobs/" + x.id,
			RegisteredTime: base.Add(time.Duration(i) * time.Second)}
		if err := s.InsertTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	code := 3
	if err := s.UpdateTask(ctx, "c", Update{State: api.StateTerminated, Node: "r1-gpu01-ib", ExitCode: &code}, "ended"); err != nil {
		t.Fatal(err)
	}
	ids := func(ts []*Task) string {
		var out []string
		for _, x := range ts {
			out = append(out, x.ID)
		}
		return strings.Join(out, ",")
	}
	mine, err := s.ListTasks(ctx, TaskFilter{Type: "notebook", Owners: []string{"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(mine); got != "c,b" {
		t.Errorf("alice's notebooks: %s, want c,b", got)
	}
	all, err := s.ListTasks(ctx, TaskFilter{Type: "notebook"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(all); got != "c,a,b" {
		t.Errorf("all notebooks: %s, want c,a,b", got)
	}
	c := mine[0]
	if c.Type != "notebook" || c.Owner != "alice" || c.Description != "desc c" || c.State != api.StateTerminated || c.Pool != "gpu" ||
		c.Node != "r1-gpu01-ib" || c.ExitCode == nil || *c.ExitCode != 3 || !c.RegisteredTime.Equal(base) {
		t.Errorf("listed task c: %+v", c)
	}
	if c.Config != "" || c.Secret != "" || c.JupyterToken != "" || c.JobDir != "" {
		t.Errorf("a list read config or secrets: %+v", c)
	}
	for _, q := range []string{
		"SELECT " + listCols + " FROM tasks WHERE type='notebook' AND owner='alice' ORDER BY registered_time",
		"SELECT " + listCols + " FROM tasks WHERE type='notebook' ORDER BY registered_time",
	} {
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "USING INDEX tasks_") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("plan of %q: %s, want an index and no sort", q, p)
		}
	}
}

// TestListTasksFilter: a list limited to owners by name or by user id
// holds the tasks of any of them; each task carries its owner's user id,
// 0 when the owner has no account.
func TestListTasksFilter(t *testing.T) {
	s := open(t)
	s.SetPasswordCost(4)
	ctx := context.Background()
	alice, err := s.CreateUser(ctx, "alice", Plain("pw"), false)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := s.CreateUser(ctx, "bob", Plain("pw"), false)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1_800_000_000, 0)
	for i, owner := range []string{"alice", "bob", "carol", "alice"} {
		task := &Task{ID: fmt.Sprint("t", i), Type: "notebook", Owner: owner, PosixUser: owner, State: api.StateQueued,
			Pool: "gpu", Config: "{}", JupyterToken: "tok", Secret: "sec", JobDir: "/j", RegisteredTime: base.Add(time.Duration(i) * time.Second)}
		if err := s.InsertTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		f    TaskFilter
		want string
	}{
		{TaskFilter{Type: "notebook"}, "t0,t1,t2,t3"},
		{TaskFilter{Type: "shell"}, ""},
		{TaskFilter{Type: "notebook", Owners: []string{"alice"}}, "t0,t3"},
		{TaskFilter{Type: "notebook", Owners: []string{"carol", "bob"}}, "t1,t2"},
		{TaskFilter{Type: "notebook", OwnerIDs: []int64{bob.ID}}, "t1"},
		{TaskFilter{Type: "notebook", Owners: []string{"carol"}, OwnerIDs: []int64{alice.ID}}, "t0,t2,t3"},
		{TaskFilter{Type: "notebook", Owners: []string{"nobody"}}, ""},
		{TaskFilter{Type: "notebook", OwnerIDs: []int64{9999}}, ""},
	} {
		ts, err := s.ListTasks(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range ts {
			ids = append(ids, x.ID)
			want := map[string]int64{"alice": alice.ID, "bob": bob.ID}[x.Owner]
			if x.OwnerID != want {
				t.Errorf("%s of %s: owner id %d, want %d", x.ID, x.Owner, x.OwnerID, want)
			}
		}
		if got := strings.Join(ids, ","); got != c.want {
			t.Errorf("%+v: %s, want %s", c.f, got, c.want)
		}
	}
	if got, err := s.GetTask(ctx, "t1"); err != nil || got.OwnerID != bob.ID {
		t.Errorf("GetTask: owner id %+v %v", got, err)
	}
}
