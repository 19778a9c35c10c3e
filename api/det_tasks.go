package api

// The types of this file follow Determined 0.38.1's REST API (its
// v1Task, v1AllocationSummary, v1TaskLogsResponse, v1Agent,
// v1ResourcePool and v1Workspace messages), so Determined's own CLI reads
// the bridge's tasks, logs, agents, pools and workspaces unchanged. Field
// names are Determined's; fields that mean nothing on a Slurm bridge carry
// their zero value. Lists and maps are never null on the wire: whoever
// fills these types makes nil ones empty.

import "time"

// Determined's enum values used by the types below.
const (
	TaskTypeUnspecified = "TASK_TYPE_UNSPECIFIED"
	TaskTypeNotebook    = "TASK_TYPE_NOTEBOOK"
	TaskTypeShell       = "TASK_TYPE_SHELL"
	TaskTypeCommand     = "TASK_TYPE_COMMAND"

	SchedulerTypeSlurm  = "SCHEDULER_TYPE_SLURM"
	FittingPolicySlurm  = "FITTING_POLICY_SLURM"
	ResourcePoolStatic  = "RESOURCE_POOL_TYPE_STATIC"
	DeviceTypeCPU       = "TYPE_CPU"
	DeviceTypeCUDA      = "TYPE_CUDA"
	WorkspaceStateUnset = "WORKSPACE_STATE_UNSPECIFIED"

	LogLevelInfo    = "LOG_LEVEL_INFO"
	LogLevelWarning = "LOG_LEVEL_WARNING"
	LogLevelError   = "LOG_LEVEL_ERROR"

	OrderByUnspecified = "ORDER_BY_UNSPECIFIED"
	OrderByAsc         = "ORDER_BY_ASC"
	OrderByDesc        = "ORDER_BY_DESC"
)

// Container states (Determined's containerv1State): the state of the
// Slurm job that holds an agent's slots.
const (
	ContainerUnspecified = "STATE_UNSPECIFIED"
	ContainerStarting    = "STATE_STARTING"
	ContainerRunning     = "STATE_RUNNING"
)

// Log sources: the bridge's own events, and the job's output.
const (
	LogSourceBridge = "bridge"
	LogSourceJob    = "job"
)

// AllocationID is the id of a task's allocation. A bridge task has exactly
// one (its Slurm job), numbered 1 as Determined numbers a task's first.
func AllocationID(taskID string) string { return taskID + ".1" }

// TaskType is Determined's task type for a bridge task kind.
func TaskType(kind string) string {
	switch kind {
	case "notebook": // the bridge's task kinds (jobspec.Kind*)
		return TaskTypeNotebook
	case "shell":
		return TaskTypeShell
	case "command":
		return TaskTypeCommand
	}
	return TaskTypeUnspecified
}

// GetTaskResponse is the body of GET /api/v1/tasks/{id}.
type GetTaskResponse struct {
	Task Task `json:"task"`
}

// Task is one task (Determined's v1Task). EndTime is set once, and only
// once, the task has ended: Determined's CLI stops waiting for a notebook
// when it sees it.
type Task struct {
	TaskID      string       `json:"taskId"`
	TaskType    string       `json:"taskType"`
	Allocations []Allocation `json:"allocations"`
	StartTime   time.Time    `json:"startTime"`
	EndTime     *time.Time   `json:"endTime,omitempty"`
}

// Allocation is a task's Slurm job (Determined's v1Allocation). IsReady
// turns true once Jupyter answered. ResourcePool is the bridge's own.
type Allocation struct {
	TaskID       string     `json:"taskId"`
	AllocationID string     `json:"allocationId"`
	State        string     `json:"state"`
	IsReady      bool       `json:"isReady"`
	Slots        int        `json:"slots"`
	StartTime    time.Time  `json:"startTime"`
	EndTime      *time.Time `json:"endTime,omitempty"`
	ExitReason   string     `json:"exitReason,omitempty"`
	StatusCode   *int       `json:"statusCode,omitempty"`
	ResourcePool string     `json:"resourcePool"`
}

// GetTasksResponse is the body of GET /api/v1/tasks: the live tasks the
// caller may see, by allocation id.
type GetTasksResponse struct {
	AllocationIDToSummary map[string]AllocationSummary `json:"allocationIdToSummary"`
}

// AllocationSummary is one live allocation (Determined's
// v1AllocationSummary). Username is the bridge's own.
type AllocationSummary struct {
	TaskID         string             `json:"taskId"`
	AllocationID   string             `json:"allocationId"`
	Name           string             `json:"name"`
	RegisteredTime time.Time          `json:"registeredTime"`
	ResourcePool   string             `json:"resourcePool"`
	SlotsNeeded    int                `json:"slotsNeeded"`
	Resources      []ResourcesSummary `json:"resources"`
	SchedulerType  string             `json:"schedulerType"`
	Username       string             `json:"username"`
	// Cluster is the bridge's own: the Slurm cluster of the task's job on
	// a site of several (as Notebook.Cluster).
	Cluster string `json:"cluster,omitempty"`
}

// ResourcesSummary is where an allocation runs (Determined's
// v1ResourcesSummary): the node, as the agent, and the slots it holds
// there. ContainerID is the Slurm job id, as on the agent's slots.
type ResourcesSummary struct {
	ResourcesID  string                      `json:"resourcesId"`
	AllocationID string                      `json:"allocationId"`
	ContainerID  string                      `json:"containerId"`
	AgentDevices map[string]ResourcesDevices `json:"agentDevices"`
}

// ResourcesDevices are the devices an allocation holds on one agent.
type ResourcesDevices struct {
	Devices []Device `json:"devices"`
}

// TaskLogsLine is one line of the stream of GET /api/v1/tasks/{id}/logs,
// which sends one JSON object per line as Determined's streaming routes do.
type TaskLogsLine struct {
	Result TaskLog `json:"result"`
}

// TaskLog is one log line (Determined's v1TaskLogsResponse). Log is the
// line as written, with its "\n"; Message is the line as Determined shows
// it (time, origin, level, then the line), which Determined's CLI prints
// as it is. Source is LogSourceBridge or LogSourceJob. ID is unique within
// the task and stable across requests.
type TaskLog struct {
	ID           string    `json:"id"`
	TaskID       string    `json:"taskId"`
	AllocationID string    `json:"allocationId"`
	AgentID      string    `json:"agentId"`
	ContainerID  string    `json:"containerId"`
	Timestamp    time.Time `json:"timestamp"`
	Level        string    `json:"level"`
	Source       string    `json:"source"`
	StdType      string    `json:"stdtype"`
	Log          string    `json:"log"`
	Message      string    `json:"message"`
}

// GetAgentsResponse is the body of GET /api/v1/agents.
type GetAgentsResponse struct {
	Agents     []Agent    `json:"agents"`
	Pagination Pagination `json:"pagination"`
}

// GetAgentResponse is the body of GET /api/v1/agents/{id}.
type GetAgentResponse struct {
	Agent Agent `json:"agent"`
}

// GetSlotsResponse is the body of GET /api/v1/agents/{id}/slots.
type GetSlotsResponse struct {
	Slots []Slot `json:"slots"`
}

// GetSlotResponse is the body of GET /api/v1/agents/{id}/slots/{slotId}.
type GetSlotResponse struct {
	Slot Slot `json:"slot"`
}

// Agent is one Slurm node (Determined's v1Agent). Slots and Containers
// are absent when the request excluded them.
type Agent struct {
	ID            string               `json:"id"`
	Slots         map[string]Slot      `json:"slots,omitzero"`
	Containers    map[string]Container `json:"containers,omitzero"`
	Enabled       bool                 `json:"enabled"`
	Draining      bool                 `json:"draining"`
	ResourcePools []string             `json:"resourcePools"`
	Addresses     []string             `json:"addresses"`
	SlotStats     SlotStats            `json:"slotStats"`
	// SlurmState is the bridge's own: the node's state as sinfo reports it.
	SlurmState string `json:"slurmState"`
}

// Slot is one slot of an agent (Determined's v1Slot). Container is set
// while a task of the bridge holds the slot.
type Slot struct {
	ID        string     `json:"id"`
	Device    Device     `json:"device"`
	Enabled   bool       `json:"enabled"`
	Draining  bool       `json:"draining"`
	Container *Container `json:"container,omitempty"`
}

// Device is what a slot is (Determined's v1Device): a GPU, or for a node
// without GPUs the node's CPUs.
type Device struct {
	ID    int    `json:"id"`
	Brand string `json:"brand"`
	UUID  string `json:"uuid"`
	Type  string `json:"type"`
}

// Container is the Slurm job holding slots (Determined's v1Container).
// For a task the caller may not see, only PermissionDenied is set.
type Container struct {
	ID               string   `json:"id"`
	State            string   `json:"state"`
	Devices          []Device `json:"devices"`
	PermissionDenied bool     `json:"permissionDenied"`
}

// SlotStats counts an agent's slots by device type and by brand.
type SlotStats struct {
	TypeStats  map[string]DeviceStats `json:"typeStats"`
	BrandStats map[string]DeviceStats `json:"brandStats"`
}

// DeviceStats counts slots of one type or brand; States counts the held
// ones by their container's state.
type DeviceStats struct {
	Total    int            `json:"total"`
	Disabled int            `json:"disabled"`
	Draining int            `json:"draining"`
	States   map[string]int `json:"states"`
}

// GetResourcePoolsResponse is the body of GET /api/v1/resource-pools.
type GetResourcePoolsResponse struct {
	ResourcePools []ResourcePool `json:"resourcePools"`
	Pagination    Pagination     `json:"pagination"`
}

// ResourcePool is one pool (Determined's v1ResourcePool, whose fields are
// all required) and, after it, the bridge's own facts about it. Slots are
// GPUs, as a notebook's resources.slots asks for GPUs: a pool without GPUs
// has none and slot type TYPE_CPU.
type ResourcePool struct {
	Name                         string            `json:"name"`
	Description                  string            `json:"description"`
	Type                         string            `json:"type"`
	NumAgents                    int               `json:"numAgents"`
	SlotsAvailable               int               `json:"slotsAvailable"`
	SlotsUsed                    int               `json:"slotsUsed"`
	SlotType                     string            `json:"slotType"`
	SlotsPerAgent                int               `json:"slotsPerAgent"`
	AuxContainerCapacity         int               `json:"auxContainerCapacity"`
	AuxContainersRunning         int               `json:"auxContainersRunning"`
	DefaultComputePool           bool              `json:"defaultComputePool"`
	DefaultAuxPool               bool              `json:"defaultAuxPool"`
	Preemptible                  bool              `json:"preemptible"`
	MinAgents                    int               `json:"minAgents"`
	MaxAgents                    int               `json:"maxAgents"`
	AuxContainerCapacityPerAgent int               `json:"auxContainerCapacityPerAgent"`
	SchedulerType                string            `json:"schedulerType"`
	SchedulerFittingPolicy       string            `json:"schedulerFittingPolicy"`
	Location                     string            `json:"location"`
	ImageID                      string            `json:"imageId"`
	InstanceType                 string            `json:"instanceType"`
	MasterURL                    string            `json:"masterUrl"`
	MasterCertName               string            `json:"masterCertName"`
	StartupScript                string            `json:"startupScript"`
	ContainerStartupScript       string            `json:"containerStartupScript"`
	AgentDockerNetwork           string            `json:"agentDockerNetwork"`
	AgentDockerRuntime           string            `json:"agentDockerRuntime"`
	AgentDockerImage             string            `json:"agentDockerImage"`
	AgentFluentImage             string            `json:"agentFluentImage"`
	MaxIdleAgentPeriod           float64           `json:"maxIdleAgentPeriod"`
	MaxAgentStartingPeriod       float64           `json:"maxAgentStartingPeriod"`
	Details                      PoolDetails       `json:"details"`
	ClusterName                  string            `json:"clusterName"`
	ResourceManagerMetadata      map[string]string `json:"resourceManagerMetadata"`
	Accelerator                  string            `json:"accelerator,omitempty"`
	Stats                        QueueStats        `json:"stats"`

	// The bridge's own. Cluster is the Slurm cluster of the partition on
	// a site of several (as Notebook.Cluster); SlurmStale says the
	// bridge's view of that cluster is stale (its controller does not
	// answer), so the counts are its last known.
	Cluster          string `json:"cluster,omitempty"`
	SlurmStale       bool   `json:"slurmStale,omitempty"`
	Partition        string `json:"partition"`
	GPUType          string `json:"gpuType,omitempty"`
	NodesUp          int    `json:"nodesUp"`
	GPUsTotal        int    `json:"gpusTotal"`
	GPUsUsed         int    `json:"gpusUsed"`
	CPUsTotal        int    `json:"cpusTotal"`
	CPUsUsed         int    `json:"cpusUsed"`
	NotebooksRunning int    `json:"notebooksRunning"`
	NotebooksQueued  int    `json:"notebooksQueued"`
	MaxSlots         int    `json:"maxSlots,omitempty"`
	IdleTimeout      string `json:"idleTimeout,omitempty"`
	Image            string `json:"image,omitempty"`
	// MaxWalltimeSeconds is the longest time limit an extension may give
	// a notebook of the pool (absent: none may be extended);
	// MaxExtensions bounds how often one may be (absent: no bound).
	MaxWalltimeSeconds int64 `json:"maxWalltimeSeconds,omitempty"`
	MaxExtensions      int   `json:"maxExtensions,omitempty"`
}

// PoolDetails is Determined's v1ResourcePoolDetail: cloud and priority
// scheduler settings, none of which a Slurm pool has.
type PoolDetails struct{}

// QueueStats counts a pool's queued and scheduled tasks (Determined's
// v1QueueStats).
type QueueStats struct {
	QueuedCount    int `json:"queuedCount"`
	ScheduledCount int `json:"scheduledCount"`
}

// UncategorizedWorkspaceID is the id of the bridge's one workspace.
const UncategorizedWorkspaceID = 1

// GetWorkspacesResponse is the body of GET /api/v1/workspaces.
type GetWorkspacesResponse struct {
	Workspaces []Workspace `json:"workspaces"`
	Pagination Pagination  `json:"pagination"`
}

// GetWorkspaceResponse is the body of GET /api/v1/workspaces/{id}.
type GetWorkspaceResponse struct {
	Workspace Workspace `json:"workspace"`
}

// Workspace is Determined's v1Workspace. The bridge has one, Determined's
// default "Uncategorized", which cannot be changed.
type Workspace struct {
	ID             int    `json:"id"`
	Name           string `json:"name"`
	Archived       bool   `json:"archived"`
	Username       string `json:"username"`
	UserID         int    `json:"userId"`
	Immutable      bool   `json:"immutable"`
	NumProjects    int    `json:"numProjects"`
	NumExperiments int    `json:"numExperiments"`
	Pinned         bool   `json:"pinned"`
	State          string `json:"state"`
	ErrorMessage   string `json:"errorMessage"`
}

// Uncategorized is the bridge's one workspace.
func Uncategorized() Workspace {
	return Workspace{ID: UncategorizedWorkspaceID, Name: "Uncategorized", Immutable: true, State: WorkspaceStateUnset}
}
