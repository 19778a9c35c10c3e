package rest

import (
	"reflect"
	"strings"
	"testing"
)

func TestJobFields(t *testing.T) {
	args := []string{
		"--job-name=det-notebook-x", "--partition=gpu", "--nodes=1", "--ntasks=1",
		"--output=/jobs/alice/x/output.log", "--chdir=/jobs/alice/x", "--gres=gpu:a100:2",
		"--requeue", "--open-mode=append", "--signal=B:USR1@60",
		"--account=physics", "--qos", "interactive", "--time=1-02:30:00", "--mem=16G", "--mem-per-cpu=512",
		"--cpus-per-task=4", "--nodelist=r1-gpu01-ib", "--exclusive", "--constraint=a100", "--reservation=maint",
		"--comment=hello", "-Aother", "-t90", "--acc=last",
	}
	got, err := JobFields(args)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name": "det-notebook-x", "partition": "gpu", "nodes": []int{1, 1}, "tasks": 1,
		"standard_output": "/jobs/alice/x/output.log", "current_working_directory": "/jobs/alice/x", "gres": "gpu:a100:2",
		"requeue": true, "open_mode": "append", "signal": "B:USR1@60",
		"account": "last", "qos": "interactive", "time_limit": 90, "memory_per_node": int64(16384), "memory_per_cpu": int64(512),
		"cpus_per_task": 4, "nodelist": "r1-gpu01-ib", "exclusive": "exclusive", "constraints": "a100", "reservation": "maint",
		"comment": "hello",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("JobFields:\n got %#v\nwant %#v", got, want)
	}
	for arg, key := range map[string]any{"--time=1-02:30:00": 1590, "--nodes=1-2": []int{1, 2}, "--mem=1500K": int64(2), "--exclusive=user": "user"} {
		f, err := JobFields([]string{arg})
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		for _, v := range f {
			if !reflect.DeepEqual(v, key) {
				t.Errorf("%s gives %#v, want %#v", arg, v, key)
			}
		}
	}
	if f, _ := JobFields([]string{"--no-requeue"}); !reflect.DeepEqual(f, map[string]any{"no_requeue": true}) {
		t.Errorf("--no-requeue gives %v", f)
	}
}

func TestJobFieldsRefuses(t *testing.T) {
	for arg, want := range map[string]string{
		"--gpus=2":          "--gpus",
		"--licenses=matlab": "--licenses",
		"--mem-per-gpu=4G":  "--mem-per-gpu",
		"-x r1-gpu01":       "-x",
		"--exclude=n1":      "--exclude",
		"stray":             `"stray" is not an option`,
		"--time=soon":       "not a Slurm time",
		"--nodes=0":         "not a node count",
		"--mem=lots":        "not a memory size",
		"--requeue=yes":     "takes no value",
	} {
		err := CheckSbatchArgs(strings.Fields(arg))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", arg, err, want)
		}
		if err != nil && strings.HasPrefix(arg, "-") && strings.Contains(want, "-") && !strings.Contains(err.Error(), UnsupportedHint) {
			t.Errorf("%s: %v does not say to use the CLI", arg, err)
		}
	}
	if err := CheckSbatchArgs([]string{"--qos"}); err == nil || !strings.Contains(err.Error(), "no value") {
		t.Errorf("--qos without a value: %v", err)
	}
}
