package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/jobdir"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
	"github.com/det-slurm/bridge/taskconfig"
)

// userError is a problem the user can fix; its message is shown as is.
// err, when set, is the cause (for errors.Is and errors.As and the log).
type userError struct {
	code int
	msg  string
	err  error
}

func (e *userError) Error() string { return e.msg }

func (e *userError) Unwrap() error { return e.err }

// fail answers err: a userError with its code and message, anything
// else as an internal error of what.
func (s *Server) fail(w http.ResponseWriter, what string, err error) {
	var ue *userError
	if errors.As(err, &ue) {
		writeError(w, ue.code, ue.msg)
		return
	}
	s.internal(w, what, err)
}

// describe names a shell the user did not name.
func describe(typ string, userCfg map[string]any, cfg *taskconfig.Config) {
	if _, named := userCfg["description"]; typ == typeShell && !named {
		cfg.Description = "Shell (" + taskconfig.RandomName() + ")"
	}
}

// badRequest is a 400 with the formatted message; its first error
// argument, if any, is the cause it wraps.
func badRequest(format string, a ...any) error {
	ue := &userError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, a...)}
	for _, v := range a {
		if err, ok := v.(error); ok {
			ue.err = err
			break
		}
	}
	return ue
}

// resolveConfig merges the site's defaults, the pool's defaults and the
// user's config, validates the result and returns it with its pool.
func (s *Server) resolveConfig(userCfg map[string]any) (*taskconfig.Config, *siteconfig.Pool, error) {
	base := taskconfig.Merge(s.cfg.TaskContainerDefaults, nil)
	first, err := taskconfig.Decode(taskconfig.Merge(base, userCfg))
	if err != nil {
		return nil, nil, badRequest("%v", err)
	}
	poolName := first.Resources.ResourcePool
	if poolName == "" {
		poolName = s.defaultPool(first.SlotCount())
	}
	pool, ok := s.cfg.Pool(poolName)
	if !ok {
		return nil, nil, badRequest("resources.resource_pool: no pool named %q (pools: %s)", poolName, strings.Join(s.cfg.PoolNames(), ", "))
	}
	cfg, err := taskconfig.Decode(taskconfig.Merge(taskconfig.Merge(base, pool.Defaults), userCfg))
	if err != nil {
		return nil, nil, badRequest("%v", err)
	}
	cfg.Resources.ResourcePool = pool.Name
	slots := cfg.SlotCount()
	cfg.Resources.Slots = &slots
	if cfg.IdleTimeout == "" {
		cfg.IdleTimeout = s.cfg.NotebookTimeout
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, badRequest("%v", err)
	}
	if err := checkRuntime(s.cfg.ContainerRuntime, cfg, userCfg); err != nil {
		return nil, nil, err
	}
	if len(pool.AllowedSbatchArgs) > 0 {
		for i, a := range cfg.Slurm.SbatchArgs {
			name, _, _ := strings.Cut(a, "=")
			if !slices.Contains(pool.AllowedSbatchArgs, name) {
				return nil, nil, badRequest("slurm.sbatch_args[%d]: pool %s allows only %s", i, pool.Name, strings.Join(pool.AllowedSbatchArgs, ", "))
			}
		}
	}
	if err := checkPoolSbatch(pool, cfg.Slurm.SbatchArgs); err != nil {
		return nil, nil, err
	}
	if d, _ := cfg.IdleTimeoutDuration(); d > 0 && d < s.cfg.MinIdle {
		return nil, nil, badRequest("idle_timeout: %s is below this site's minimum of %s", cfg.IdleTimeout, s.cfg.MinIdleTimeout)
	}
	if cfg.Environment.Image.CPU == "" {
		cfg.Environment.Image.CPU = s.cfg.DefaultImages.CPU
	}
	if cfg.Environment.Image.CUDA == "" {
		cfg.Environment.Image.CUDA = s.cfg.DefaultImages.CUDA
		if cfg.Environment.Image.CUDA == "" {
			cfg.Environment.Image.CUDA = cfg.Environment.Image.CPU
		}
	}
	return cfg, pool, nil
}

// checkImage makes sure the image is a SIF, squashfs or sandbox folder
// the job's user can read, before anything is queued.
func (s *Server) checkImage(ctx context.Context, cfg *taskconfig.Config, slots int, pu *user.User) (string, error) {
	img := cfg.ImageFor(slots)
	if !s.cfg.ContainerRuntime.Capabilities().Isolated {
		return img, nil
	}
	if img == "" {
		return "", badRequest("environment.image: no image given and the site config has no default image")
	}
	if !filepath.IsAbs(img) {
		return "", badRequest("environment.image: %q must be an absolute path to a SIF, squashfs or sandbox folder on the shared filesystem", img)
	}
	if err := s.checkImageAs(ctx, pu, img); err != nil {
		return "", err
	}
	return img, nil
}

// checkSlots refuses a GPU count no node of the pool can satisfy.
func (s *Server) checkSlots(ctx context.Context, pool *siteconfig.Pool, slots int) error {
	if slots == 0 {
		return nil
	}
	if pool.GPU.Gres == "" {
		return badRequest("resources.slots: pool %q has no GPUs; use resources.slots=0 or a GPU pool", pool.Name)
	}
	if pool.MaxSlots > 0 && slots > pool.MaxSlots {
		return badRequest("resources.slots: %d is more than pool %q allows per notebook (%d)", slots, pool.Name, pool.MaxSlots)
	}
	nodes, err := s.clusterNodes(ctx, pool.Cluster)
	if err != nil {
		return &userError{code: http.StatusServiceUnavailable, msg: "cannot reach Slurm to check the pool's nodes: " + err.Error(), err: err}
	}
	best, bestName := 0, ""
	for _, n := range nodes {
		for _, p := range n.Partitions {
			if p == pool.Partition && n.GPUs > best {
				best, bestName = n.GPUs, n.Name
			}
		}
	}
	if slots > best {
		if bestName == "" {
			return badRequest("resources.slots: pool %q (partition %s) has no node with GPUs", pool.Name, pool.Partition)
		}
		return badRequest("resources.slots: %d GPUs requested, but the largest node in pool %q (%s) has %d", slots, pool.Name, bestName, best)
	}
	return nil
}

// posixUser returns the POSIX account a bridge user's jobs run as: the
// linked agent user, never root. A bridge that is not root is a
// single-user bridge: only users linked to its own account may launch.
func (s *Server) posixUser(u *store.User) (*user.User, error) {
	if u.PosixUser == "" {
		return nil, &userError{code: http.StatusForbidden, msg: fmt.Sprintf("user %s is not linked to a POSIX user; an admin must run `det user link-with-agent-user %s --agent-user NAME`", u.Username, u.Username)}
	}
	pu, err := s.lookupUser(u.PosixUser)
	if err != nil {
		return nil, &userError{code: http.StatusForbidden, msg: fmt.Sprintf("POSIX user %q of %s does not exist on this host", u.PosixUser, u.Username)}
	}
	uid, _ := strconv.Atoi(pu.Uid)
	if reason := s.refuseAccount(pu.Username, uid); reason != "" {
		return nil, &userError{code: http.StatusForbidden, msg: fmt.Sprintf("user %s cannot launch: %s", u.Username, reason)}
	}
	if u.AgentUID >= 0 && strconv.Itoa(u.AgentUID) != pu.Uid {
		return nil, &userError{code: http.StatusForbidden, msg: fmt.Sprintf("POSIX user %s has uid %s here, not the linked %d; an admin must link the user again", pu.Username, pu.Uid, u.AgentUID)}
	}
	if os.Geteuid() != 0 && pu.Uid != strconv.Itoa(os.Geteuid()) {
		return nil, &userError{code: http.StatusForbidden, msg: fmt.Sprintf("this bridge runs as a normal user (uid %d), so it launches only for users linked to that account, not %s", os.Geteuid(), pu.Username)}
	}
	return pu, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

// submit validates a config, writes the job folder (with contextTar, the
// archive of the launch's files, nil for none), stores the task and
// queues the Slurm job; replaces is the ended task a relaunch replaces
// ("" for none). An error before sbatch leaves nothing behind; one after
// it cancels the job and leaves the task TERMINATED with the reason
// (abort.go).
func (s *Server) submit(ctx context.Context, u *store.User, typ string, userCfg map[string]any, contextTar []byte, replaces string) (*store.Task, error) {
	cfg, pool, err := s.resolveConfig(userCfg)
	if err != nil {
		return nil, err
	}
	if err := s.checkBindPrefixes(cfg); err != nil {
		return nil, err
	}
	if len(contextTar) > 0 {
		// The archive was made from checked files; the job unpacks it by
		// these rules, so check it by them too.
		if err := taskconfig.ExtractContext(contextTar, ""); err != nil {
			return nil, badRequest("files: %v", err)
		}
	}
	describe(typ, userCfg, cfg)
	slots := cfg.SlotCount()
	if err := s.checkSlots(ctx, pool, slots); err != nil {
		return nil, err
	}
	pu, err := s.posixUser(u)
	if err != nil {
		return nil, err
	}
	img, err := s.checkImage(ctx, cfg, slots, pu)
	if err != nil {
		return nil, err
	}
	if err := s.checkBindTargets(ctx, cfg, pu); err != nil {
		return nil, err
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	id := uuid.NewString()
	// In flight from before the task is stored until its job id is: the
	// reconciler leaves it alone, and a kill meanwhile is carried out here.
	s.submitting.add(id)
	defer s.submitting.finish(id)
	t := &store.Task{
		ID: id, Type: typ, Owner: u.Username, OwnerID: u.ID, PosixUser: pu.Username, Description: cfg.Description,
		State: api.StateQueued, Pool: pool.Name, Slots: slots, Config: string(cfgJSON),
		JupyterToken: randomHex(24), Secret: randomHex(24), ProofKey: randomHex(32), ProxyMode: s.cfg.ProxyModeOf(pool),
		JobDir: filepath.Join(s.cfg.JobStorageRoot, pu.Username, id), RegisteredTime: time.Now(),
		Replaces: replaces, HasContext: len(contextTar) > 0, Cluster: pool.Cluster,
	}
	if typ == typeShell {
		if t.SSHKey, err = newSSHKey("det-shell-" + id); err != nil {
			return nil, err
		}
		if t.SSHHostKey, err = newSSHKey("det-shell-host-" + id); err != nil {
			return nil, err
		}
	}
	if err := s.store.InsertTask(ctx, t); err != nil {
		return nil, err
	}
	undo := func() {
		undoCtx := context.WithoutCancel(ctx)
		if derr := s.store.DeleteTask(undoCtx, id); derr != nil {
			s.log.Error("undo failed submit", "task_id", id, "err", derr)
		}
		_ = s.store.RevokeTaskTokens(undoCtx, id)
		os.RemoveAll(t.JobDir)
	}
	userToken, err := s.store.NewToken(ctx, u.ID, id, tokenTTL)
	if err != nil {
		undo()
		return nil, err
	}
	script, text, err := s.writeJobDir(t, cfg, pu, img, contextTar, userToken)
	if err != nil {
		undo()
		return nil, err
	}
	req := slurm.SubmitRequest{User: s.submitUser(pu), Script: script, Text: text, Args: s.sbatchArgs(t, cfg, pool)}
	jobID, err := s.slurmOf(t.Cluster).Submit(ctx, req)
	if err != nil {
		undo()
		if slurm.ControllerTrouble(err) {
			// sbatch may have queued the job before it timed out: the orphan
			// sweep cancels it if it shows up.
			s.abandoned.add(id)
		}
		return nil, submitFailure(err, pu.Username, pool)
	}
	// From here on a job exists: every failure cancels it and ends the task.
	t.JobID = jobID
	if err := s.store.SetJobID(ctx, id, jobID); err != nil {
		s.submitting.finish(id)
		return nil, s.abortQueued(ctx, t, jobID, err)
	}
	if s.submitting.finish(id) {
		return nil, s.killedQueued(ctx, t, jobID)
	}
	_ = s.store.AddEvent(ctx, id, fmt.Sprintf("submitted as Slurm job %s to partition %s (%d GPU slots) as POSIX user %s", jobID, pool.Partition, slots, pu.Username))
	s.setRoute(t)
	s.log.Info("notebook submitted", "task_id", id, "job_id", jobID, "owner", u.Username, "pool", pool.Name)
	s.poke()
	return t, nil
}

// submitUser is the user sbatch runs as: the job's owner when the bridge
// is root, else the bridge's own user (a single-user bridge).
func (s *Server) submitUser(pu *user.User) string {
	if os.Geteuid() == 0 {
		return pu.Username
	}
	return ""
}

func (s *Server) sbatchArgs(t *store.Task, cfg *taskconfig.Config, pool *siteconfig.Pool) []string {
	args := []string{
		"--job-name=" + slurm.JobName(t.Type, t.ID),
		"--partition=" + pool.Partition,
		"--nodes=1", "--ntasks=1",
		"--output=" + filepath.Join(t.JobDir, "output.log"),
		"--chdir=" + t.JobDir,
	}
	gpuType := cfg.Slurm.GPUType
	if gpuType == "" {
		gpuType = pool.GPU.Type
	}
	if g := slurm.GresArg(pool.GPU.Gres, gpuType, t.Slots); g != "" {
		args = append(args, g)
	}
	args = append(args, requeueArgs(pool)...)
	args = append(args, pool.SbatchArgs...)
	return append(args, cfg.Slurm.SbatchArgs...)
}

// writeJobDir creates <root>/<user>/<id>/ owned by the job's user (0700)
// with task.json (0600) and the batch script, and returns the script's path
// and its text (so it is never read back out of the user-owned folder).
// Everything is written before the folder is handed over (package jobdir).
func (s *Server) writeJobDir(t *store.Task, cfg *taskconfig.Config, pu *user.User, img string, contextTar []byte, userToken string) (path, text string, err error) {
	owner := jobdir.Owner{Uid: -1, Gid: -1}
	if os.Geteuid() == 0 {
		owner.Uid, _ = strconv.Atoi(pu.Uid)
		owner.Gid, _ = strconv.Atoi(pu.Gid)
	}
	binds := make([]string, 0, len(cfg.BindMounts)+1)
	if s.cfg.SharedFSPath != "" {
		binds = append(binds, s.cfg.SharedFSPath+":/run/determined/workdir/shared_fs")
	}
	for _, b := range cfg.BindMounts {
		binds = append(binds, b.Spec())
	}
	origin := s.externalOrigin()
	spec := jobspec.Spec{
		TaskID: t.ID, Kind: t.Type, JobDir: t.JobDir, Runtime: s.cfg.ContainerRuntime.Type, RuntimeBin: s.cfg.ContainerRuntime.Binary,
		Image: img, Slots: t.Slots, Binds: binds, Env: cfg.Environment.EnvironmentVariables, WorkDir: cfg.WorkDir,
		BaseURL: "/proxy/" + t.ID + "/", JupyterToken: t.JupyterToken,
		CallbackURL: strings.TrimSuffix(s.cfg.CallbackURL, "/"), Secret: t.Secret, ProofKey: t.ProofKey, AllowOrigin: origin,
		ProxyMode:        t.ProxyMode,
		HeartbeatSeconds: max(1, int(s.cfg.Heartbeat.Seconds())),
		CLIPath:          s.cfg.CLIPath, UserToken: userToken, Master: strings.TrimSuffix(s.cfg.CallbackURL, "/"),
		User: t.Owner, ResourcePool: t.Pool, Cluster: t.Cluster,
	}
	if t.SSHKey != "" {
		pub, err := sshPublicKey(t.SSHKey)
		if err != nil {
			return "", "", err
		}
		spec.SSHAuthorizedKey, spec.SSHHostKey = pub, t.SSHHostKey
	}
	var files []jobdir.File
	if len(contextTar) > 0 {
		spec.Context = filepath.Join(t.JobDir, "context.tar.gz")
		files = append(files, jobdir.File{Name: "context.tar.gz", Data: contextTar, Mode: 0o600})
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return "", "", fmt.Errorf("encode task spec: %w", err)
	}
	specPath := filepath.Join(t.JobDir, "task.json")
	text, err = slurm.RenderScript(s.cfg.LauncherPath, specPath)
	if err != nil {
		return "", "", err
	}
	files = append(files,
		jobdir.File{Name: "task.json", Data: data, Mode: 0o600},
		jobdir.File{Name: "job.sh", Data: []byte(text), Mode: 0o700})
	root, userName, id := filepath.Dir(filepath.Dir(t.JobDir)), filepath.Base(filepath.Dir(t.JobDir)), filepath.Base(t.JobDir)
	if err := jobdir.Create(root, userName, id, owner, files); err != nil {
		return "", "", fmt.Errorf("job folder for %s: %w", pu.Username, err)
	}
	return filepath.Join(t.JobDir, "job.sh"), text, nil
}

// checkBindPrefixes makes sure each bind mount's host path lies under one
// of the site's allowed prefixes, as written (checkBindTargets follows its
// links).
func (s *Server) checkBindPrefixes(cfg *taskconfig.Config) error {
	for i, b := range cfg.BindMounts {
		field := fmt.Sprintf("bind_mounts[%d].host_path", i)
		hp := filepath.Clean(b.HostPath)
		if s.underAllowedPrefix(hp) {
			continue
		}
		if len(s.cfg.AllowedBindPrefixes) == 0 {
			return badRequest("%s: this site allows no bind mounts", field)
		}
		return badRequest("%s: %s is not under an allowed prefix (%s)", field, hp, strings.Join(s.cfg.AllowedBindPrefixes, ", "))
	}
	return nil
}

func (s *Server) underAllowedPrefix(p string) bool {
	for _, pre := range s.cfg.AllowedBindPrefixes {
		if p == pre || strings.HasPrefix(p, strings.TrimSuffix(pre, "/")+"/") {
			return true
		}
	}
	return false
}
