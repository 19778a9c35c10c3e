package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/taskconfig"
)

// checkBindTargets makes sure each bind mount's host path exists and, with
// its links followed, still lies under an allowed prefix. The links are
// followed by `det-launcher resolve` run as the job's POSIX user (as the
// image check is), so the bridge never follows a user's links as root and
// its answer tells nothing about folders the user may not read.
func (s *Server) checkBindTargets(ctx context.Context, cfg *taskconfig.Config, pu *user.User) error {
	if len(cfg.BindMounts) == 0 {
		return nil
	}
	paths := make([]string, len(cfg.BindMounts))
	for i, b := range cfg.BindMounts {
		paths[i] = filepath.Clean(b.HostPath)
	}
	out, err := s.launcherAs(ctx, pu, append([]string{"resolve"}, paths...)...)
	if errors.Is(err, context.DeadlineExceeded) {
		return badRequest("bind_mounts: looking up the host paths took longer than %s", imageCheckTimeout)
	}
	if err != nil {
		return fmt.Errorf("check bind mounts with %s resolve as %s: %w", s.cfg.LauncherPath, pu.Username, err)
	}
	var res []jobspec.ResolvedPath
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(paths) {
		return fmt.Errorf("check bind mounts with %s resolve: unexpected output %q", s.cfg.LauncherPath, out)
	}
	for i, r := range res {
		field := fmt.Sprintf("bind_mounts[%d].host_path", i)
		switch {
		case r.Problem != "":
			return badRequest("%s: %s %s", field, paths[i], r.Problem)
		case !s.underAllowedPrefix(r.Real):
			return badRequest("%s: %s resolves to %s, outside the allowed prefixes", field, paths[i], r.Real)
		}
	}
	return nil
}
