package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/user"
	"time"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// imageCheckTimeout bounds the image check; the launcher gives up on its
// own a little earlier.
const imageCheckTimeout = jobspec.ImageCheckTimeout + 2*time.Second

// launcherAs runs `det-launcher args...` as the job's POSIX user (the
// bridge's own when it is not root), with a clean environment and within
// imageCheckTimeout, and returns its output.
func (s *Server) launcherAs(ctx context.Context, pu *user.User, args ...string) ([]byte, error) {
	run := s.imageRunner
	if run == nil {
		run = slurm.ExecRunner{}
	}
	ctx, cancel := context.WithTimeout(ctx, imageCheckTimeout)
	defer cancel()
	return run.Run(ctx, slurm.Cmd{
		Name: s.cfg.LauncherPath, Args: args, User: s.submitUser(pu),
		Env: []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"},
	})
}

// checkImageAs checks that img is an image the container runtime can
// start, by running `det-launcher check-image` as the job's POSIX user
// (the bridge itself when it is not root): the bridge never opens a path a
// user gave, and the answer tells the user nothing they could not see for
// themselves. A problem with the image is a 400; a check that could not
// run is an internal error.
func (s *Server) checkImageAs(ctx context.Context, pu *user.User, img string) error {
	out, err := s.launcherAs(ctx, pu, "check-image", img)
	if errors.Is(err, context.DeadlineExceeded) {
		return badRequest("environment.image: %s: not a usable image (reading it took longer than %s)", img, imageCheckTimeout)
	}
	if err != nil {
		return fmt.Errorf("check the image with %s check-image as %s: %w", s.cfg.LauncherPath, pu.Username, err)
	}
	var v jobspec.ImageCheck
	if err := json.Unmarshal(out, &v); err != nil {
		return fmt.Errorf("check the image with %s check-image: unexpected output %q", s.cfg.LauncherPath, out)
	}
	switch {
	case v.Problem == "" && (v.Type == "sif" || v.Type == "squashfs" || v.Type == "sandbox"):
		return nil
	case v.Problem == jobspec.ImageFormat || v.Problem == "":
		return badRequest("environment.image: %s is not a SIF, squashfs or sandbox folder", img)
	}
	return badRequest("environment.image: %s: not a usable image (%s)", img, v.Detail)
}
