package bridge

import (
	"net/http"
	"testing"

	"github.com/det-slurm/bridge/api"
)

// poolKinds are v1ResourcePool's required fields and their JSON kinds.
var poolKinds = map[string]string{
	"name": "string", "description": "string", "type": "string", "numAgents": "number", "slotsAvailable": "number",
	"slotsUsed": "number", "slotType": "string", "auxContainerCapacity": "number", "auxContainersRunning": "number",
	"defaultComputePool": "bool", "defaultAuxPool": "bool", "preemptible": "bool", "minAgents": "number", "maxAgents": "number",
	"auxContainerCapacityPerAgent": "number", "schedulerType": "string", "schedulerFittingPolicy": "string",
	"location": "string", "imageId": "string", "instanceType": "string", "masterUrl": "string", "masterCertName": "string",
	"startupScript": "string", "containerStartupScript": "string", "agentDockerNetwork": "string",
	"agentDockerRuntime": "string", "agentDockerImage": "string", "agentFluentImage": "string",
	"maxIdleAgentPeriod": "number", "maxAgentStartingPeriod": "number", "details": "object", "clusterName": "string",
	"resourceManagerMetadata": "object",
	// The bridge's own, in lowerCamelCase.
	"partition": "string", "nodesUp": "number", "gpusTotal": "number", "gpusUsed": "number", "cpusTotal": "number",
	"cpusUsed": "number", "notebooksRunning": "number", "notebooksQueued": "number",
}

// TestResourcePoolsShape: GET /api/v1/resource-pools in Determined's
// shape, every required field present with the right kind, the enums
// Determined's, and the capacity of the pools' nodes.
func TestResourcePoolsShape(t *testing.T) {
	h := newHarness(t)
	h.useNodes(testNodes)
	nb := h.start(map[string]any{"resources": map[string]any{"slots": 2}})
	h.running(nb.ID, "r1-gpu01-ib")
	h.start(map[string]any{"resources": map[string]any{"slots": 0}})

	body := h.getJSON("/api/v1/resource-pools")
	fieldKinds(t, "answer", body, map[string]string{"resourcePools": "array", "pagination": "object"})
	pools := map[string]map[string]any{}
	for _, p := range body["resourcePools"].([]any) {
		m := p.(map[string]any)
		fieldKinds(t, "pool", m, poolKinds)
		pools[m["name"].(string)] = m
		if m["type"] != api.ResourcePoolStatic || m["schedulerType"] != api.SchedulerTypeSlurm || m["schedulerFittingPolicy"] != api.FittingPolicySlurm {
			t.Errorf("pool %s enums: %v %v %v", m["name"], m["type"], m["schedulerType"], m["schedulerFittingPolicy"])
		}
	}
	gpu, cpu := pools["gpu"], pools["cpu"]
	if gpu == nil || cpu == nil {
		t.Fatalf("pools %v", body)
	}
	if gpu["slotType"] != api.DeviceTypeCUDA || gpu["slotsAvailable"] != 8.0 || gpu["slotsUsed"] != 3.0 || gpu["numAgents"] != 2.0 ||
		gpu["nodesUp"] != 1.0 || gpu["slotsPerAgent"] != 4.0 || gpu["defaultComputePool"] != true || gpu["accelerator"] != "a100" ||
		gpu["notebooksRunning"] != 1.0 || gpu["stats"].(map[string]any)["scheduledCount"] != 1.0 {
		t.Errorf("gpu pool %v", gpu)
	}
	if cpu["slotType"] != api.DeviceTypeCPU || cpu["slotsAvailable"] != 0.0 || cpu["numAgents"] != 1.0 || cpu["defaultAuxPool"] != true ||
		cpu["cpusTotal"] != 16.0 || cpu["notebooksQueued"] != 1.0 {
		t.Errorf("cpu pool %v", cpu)
	}
	if pg := body["pagination"].(map[string]any); pg["total"] != 2.0 || pg["endIndex"] != 2.0 {
		t.Errorf("pagination %v", pg)
	}
	if page := h.getJSON("/api/v1/resource-pools?offset=-1")["resourcePools"].([]any); len(page) != 1 || page[0].(map[string]any)["name"] != "cpu" {
		t.Errorf("offset=-1: %v", page)
	}
	if w := h.req("GET", "/api/v1/resource-pools?limit=-1", nil, nil); w.Code != http.StatusBadRequest {
		t.Errorf("limit=-1: %d", w.Code)
	}
}

// TestPaginate: Determined's offset and limit.
func TestPaginatePools(t *testing.T) {
	for _, c := range []struct{ total, offset, limit, start, end int }{
		{5, 0, 0, 0, 5}, {5, 2, 2, 2, 4}, {5, 4, 3, 4, 5}, {5, 9, 1, 5, 5}, {5, -2, 0, 3, 5}, {5, -9, 1, 0, 1}, {0, 0, 0, 0, 0},
	} {
		pg := paginate(c.total, c.offset, c.limit)
		if pg.StartIndex != c.start || pg.EndIndex != c.end || pg.Total != c.total {
			t.Errorf("paginate(%d, %d, %d) = %+v, want [%d, %d)", c.total, c.offset, c.limit, pg, c.start, c.end)
		}
	}
}
