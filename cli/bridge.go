package cli

import (
	"context"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// bridgeClient is what the commands use of the bridge's client
// (*client.Client); tests give them a fake.
type bridgeClient interface {
	// Accounts.
	Login(ctx context.Context, user, pass string) (string, error)
	MungeLogin(ctx context.Context, cred string) (string, error)
	Logout(ctx context.Context) error
	Me(ctx context.Context) (*api.User, error)
	Users(ctx context.Context, activeOnly bool) ([]api.User, error)
	CreateUser(ctx context.Context, name, pass string, admin bool) (*api.User, error)
	PatchUserByName(ctx context.Context, name string, p api.PatchUser) (*api.User, error)
	ChangePassword(ctx context.Context, name, old, password string) error
	ChangeOwnPassword(ctx context.Context, name, old, password string) (string, error)

	// Notebooks and shells.
	Launch(ctx context.Context, k client.Kind, req api.LaunchRequest) (*client.Launched, error)
	List(ctx context.Context, k client.Kind) ([]api.Notebook, error)
	Get(ctx context.Context, k client.Kind, id string) (*client.Launched, error)
	Kill(ctx context.Context, k client.Kind, id string) (*api.Notebook, error)
	Extend(ctx context.Context, k client.Kind, id, by string) (*api.Notebook, *api.Extension, error)
	Relaunch(ctx context.Context, k client.Kind, id string) (*client.Relaunched, error)
	Logs(ctx context.Context, id string, o client.LogOptions, fn func(api.TaskLog) error) error
	DialShell(ctx context.Context, id string) (*websocket.Conn, error)
	DialSSH(ctx context.Context, id string) (*websocket.Conn, error)
	URL(path string) string

	// The cluster.
	MasterInfo(ctx context.Context) (*api.Master, error)
	ResourcePools(ctx context.Context) ([]api.ResourcePool, error)
	Tasks(ctx context.Context) (map[string]api.AllocationSummary, error)
	Agents(ctx context.Context) ([]api.Agent, error)
	Audit(ctx context.Context, q client.AuditQuery) ([]api.AuditEntry, error)
}

var _ bridgeClient = (*client.Client)(nil)
