package bridge

import (
	"context"
	"net/http"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/slurm"
)

// testNodes is a sinfo view: a GPU node with a job of the bridge's and
// one of someone else's, a draining GPU node, a CPU node, and a node of a
// partition no pool uses.
var testNodes = []slurm.Node{
	{Name: "r1-gpu01-ib", Partitions: []string{"gpu"}, Addr: "10.0.0.1", CPUs: 32, GPUs: 4, GPUsUsed: 3, GPUType: "a100", State: "mixed"},
	{Name: "r1-gpu02-ib", Partitions: []string{"gpu"}, Addr: "10.0.0.2", CPUs: 32, GPUs: 4, GPUType: "a100", State: "draining"},
	{Name: "cpu1", Partitions: []string{"cpu"}, Addr: "10.0.0.3", CPUs: 16, State: "idle"},
	{Name: "login9", Partitions: []string{"debug"}, CPUs: 4, State: "idle"},
}

// TestAgents: the nodes of the pools as Determined's agents, slots held
// by a running notebook showing its Slurm job, every required field
// present and no nulls; another user sees only that the slots are held.
func TestAgents(t *testing.T) {
	h := newHarness(t)
	h.useNodes(testNodes)
	nb := h.start(map[string]any{"resources": map[string]any{"slots": 2}})
	h.running(nb.ID, "r1-gpu01-ib")

	body := h.getJSON("/api/v1/agents")
	fieldKinds(t, "answer", body, map[string]string{"agents": "array", "pagination": "object"})
	list := body["agents"].([]any)
	if len(list) != 3 {
		t.Fatalf("%d agents, want the 3 nodes of the pools: %v", len(list), list)
	}
	agents := map[string]map[string]any{}
	for i, want := range []string{"cpu1", "r1-gpu01-ib", "r1-gpu02-ib"} {
		a := list[i].(map[string]any)
		fieldKinds(t, want, a, map[string]string{"id": "string", "slots": "object", "containers": "object", "enabled": "bool",
			"draining": "bool", "resourcePools": "array", "addresses": "array", "slotStats": "object"})
		if a["id"] != want {
			t.Fatalf("agent %d is %v, want %s (sorted by id)", i, a["id"], want)
		}
		agents[want] = a
	}

	gpu1 := agents["r1-gpu01-ib"]
	slots := gpu1["slots"].(map[string]any)
	if len(slots) != 4 || gpu1["enabled"] != true || gpu1["draining"] != false || gpu1["resourcePools"].([]any)[0] != "gpu" || gpu1["addresses"].([]any)[0] != "10.0.0.1" {
		t.Errorf("r1-gpu01-ib %v", gpu1)
	}
	for id, held := range map[string]bool{"0": true, "1": true, "2": false, "3": false} {
		s := slots[id].(map[string]any)
		fieldKinds(t, "slot "+id, s, map[string]string{"id": "string", "device": "object", "enabled": "bool", "draining": "bool"})
		dev := s["device"].(map[string]any)
		fieldKinds(t, "device", dev, map[string]string{"id": "number", "brand": "string", "uuid": "string", "type": "string"})
		if dev["type"] != api.DeviceTypeCUDA || dev["brand"] != "a100" {
			t.Errorf("slot %s device %v", id, dev)
		}
		c, ok := s["container"].(map[string]any)
		if ok != held {
			t.Errorf("slot %s container %v, want held %v", id, s["container"], held)
			continue
		}
		if held && (c["id"] != "101" || c["state"] != api.ContainerRunning || c["permissionDenied"] != false) {
			t.Errorf("slot %s container %v", id, c)
		}
	}
	if cs := gpu1["containers"].(map[string]any); len(cs) != 1 || cs["101"] == nil {
		t.Errorf("containers %v", cs)
	}
	stats := gpu1["slotStats"].(map[string]any)
	cuda := stats["typeStats"].(map[string]any)[api.DeviceTypeCUDA].(map[string]any)
	fieldKinds(t, "typeStats", cuda, map[string]string{"total": "number", "disabled": "number", "draining": "number"})
	if cuda["total"] != 4.0 || cuda["states"].(map[string]any)[api.ContainerRunning] != 2.0 || stats["brandStats"].(map[string]any)["a100"] == nil {
		t.Errorf("slot stats %v", stats)
	}

	if a := agents["r1-gpu02-ib"]; a["enabled"] != false || a["draining"] != true {
		t.Errorf("a draining node: enabled %v draining %v", a["enabled"], a["draining"])
	}
	cpu := agents["cpu1"]["slots"].(map[string]any)
	if len(cpu) != 1 || cpu["0"].(map[string]any)["device"].(map[string]any)["type"] != api.DeviceTypeCPU {
		t.Errorf("a node without GPUs has slots %v, want one TYPE_CPU slot", cpu)
	}

	// Another user: the held slots say so, and nothing more.
	if _, err := h.srv.store.CreateUser(context.Background(), "bob", store.Plain("pw"), false); err != nil {
		t.Fatal(err)
	}
	bob := h.as("bob", "pw")
	a := bob.getJSON("/api/v1/agents/r1-gpu01-ib")["agent"].(map[string]any)
	c := a["slots"].(map[string]any)["0"].(map[string]any)["container"].(map[string]any)
	if c["permissionDenied"] != true || c["id"] != "" || len(a["containers"].(map[string]any)) != 0 {
		t.Errorf("bob sees slot 0 held by %v, containers %v", c, a["containers"])
	}

	// Determined's parameters.
	if a := h.getJSON("/api/v1/agents?excludeSlots=true&excludeContainers=true")["agents"].([]any)[0].(map[string]any); a["slots"] != nil || a["containers"] != nil {
		t.Errorf("excluded slots and containers: %v", a)
	}
	page := h.getJSON("/api/v1/agents?offset=1&limit=1")
	if got := page["agents"].([]any); len(got) != 1 || got[0].(map[string]any)["id"] != "r1-gpu01-ib" {
		t.Errorf("page %v", got)
	}
	if pg := page["pagination"].(map[string]any); pg["total"] != 3.0 || pg["startIndex"] != 1.0 || pg["endIndex"] != 2.0 {
		t.Errorf("pagination %v", pg)
	}
	sl := h.getJSON("/api/v1/agents/r1-gpu01-ib/slots")["slots"].([]any)
	if len(sl) != 4 || sl[3].(map[string]any)["id"] != "3" {
		t.Errorf("slots %v", sl)
	}
	if s := h.getJSON("/api/v1/agents/cpu1/slots/0")["slot"].(map[string]any); s["id"] != "0" {
		t.Errorf("slot %v", s)
	}
	for _, p := range []string{"/api/v1/agents/login9", "/api/v1/agents/nope/slots", "/api/v1/agents/cpu1/slots/1"} {
		if w := h.req("GET", p, nil, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
	if w := h.req("GET", "/api/v1/agents?limit=x", nil, nil); w.Code != http.StatusBadRequest {
		t.Errorf("limit=x: %d", w.Code)
	}
}

// TestPlaceTasks: tasks take a node's slots in registration order, never
// more than the node has; queued tasks and tasks on unknown nodes hold
// none.
func TestPlaceTasks(t *testing.T) {
	live := []*store.Task{
		{ID: "a", State: api.StateRunning, Node: "g", Slots: 3},
		{ID: "q", State: api.StateQueued, Slots: 1},
		{ID: "b", State: api.StateStarting, Node: "g", Slots: 2},
		{ID: "z", State: api.StateRunning, Node: "c", Slots: 0},
	}
	got := placeTasks([]slurm.Node{{Name: "g", GPUs: 4}, {Name: "c"}}, live)
	if len(got["g"]) != 2 || len(got["g"][0].slots) != 3 || len(got["g"][1].slots) != 1 || got["g"][1].slots[0] != 3 {
		t.Errorf("node g: %+v", got["g"])
	}
	if len(got["c"]) != 1 || len(got["c"][0].slots) != 0 {
		t.Errorf("node c: %+v", got["c"])
	}
	if got := placeTasks(nil, live); len(got["g"]) != 2 || len(got["g"][0].slots) != 0 {
		t.Errorf("without Slurm's view: %+v", got)
	}
}
