package launcher

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// jupyterScript starts whichever Jupyter the image has. It is fixed text:
// every value reaches it through the environment and is only ever
// expanded inside double quotes, never parsed as shell. Jupyter listens on
// the Unix socket DET_JUPYTER_SOCKET, never on TCP: the launcher carries
// the bridge's connections to it (through its tunnel, or from the port it
// holds in direct mode). The Host check is off
// (allow_remote_access) as it was with --ip=0.0.0.0: requests carry the
// node's address, and the token is what guards the server. Kernels use
// the ipc transport, in the socket's private folder (JUPYTER_RUNTIME_DIR).
// The token comes from a config file there (DET_JUPYTER_CONFIG), not the
// environment, so kernels and terminals never inherit it.
const jupyterScript = hookScript + `if command -v jupyter-lab >/dev/null 2>&1; then
  exec jupyter-lab --no-browser --config="$DET_JUPYTER_CONFIG" --ServerApp.sock="$DET_JUPYTER_SOCKET" \
    --ServerApp.allow_remote_access=True --KernelManager.transport=ipc \
    --ServerApp.base_url="$DET_BASE_URL" --ServerApp.root_dir="$DET_CONTAINER_WORKDIR" \
    --ServerApp.allow_origin="$DET_ALLOW_ORIGIN" --ServerApp.open_browser=False
elif command -v jupyter-notebook >/dev/null 2>&1; then
  exec jupyter-notebook --no-browser --config="$DET_JUPYTER_CONFIG" --NotebookApp.sock="$DET_JUPYTER_SOCKET" \
    --NotebookApp.allow_remote_access=True --KernelManager.transport=ipc \
    --NotebookApp.base_url="$DET_BASE_URL" --NotebookApp.notebook_dir="$DET_CONTAINER_WORKDIR" \
    --NotebookApp.allow_origin="$DET_ALLOW_ORIGIN"
else
  echo "det-launcher: the image has neither jupyter-lab nor jupyter-notebook" >&2
  exit 127
fi
`

// noSocketMarker is in the line an older Jupyter (notebook < 6.2, an early
// jupyter_server) logs when it ignores the socket option and would listen
// on TCP instead.
const noSocketMarker = "Config option `sock` not recognized"

// noSocketMessage is the task's exit reason when the image's Jupyter
// cannot listen on a Unix socket.
const noSocketMessage = "the image's Jupyter cannot listen on a Unix socket (--ServerApp.sock / --NotebookApp.sock); " +
	"use an image with a newer Jupyter (jupyter_server, as JupyterLab 3+ has, or Notebook 6.2+)"

// hookScript sources the startup hook, when there is one, so that what it
// exports reaches what runs next.
const hookScript = `if [ -n "$DET_STARTUP_HOOK" ]; then
  echo "det-launcher: running startup-hook.sh"
  . "$DET_STARTUP_HOOK"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    exit "$rc"
  fi
  echo "` + hookDoneMarker + `"
fi
`

// shellScript runs the startup hook, then the image's login shell.
const shellScript = hookScript + loginScript

// loginScript runs the image's login shell (bash when it has one) in the
// working folder: what an SSH session without a command runs.
const loginScript = `cd "$DET_CONTAINER_WORKDIR" 2>/dev/null
if command -v bash >/dev/null 2>&1; then
  exec bash -l
fi
exec sh -l
`

// hookDoneMarker is printed once the startup hook has returned 0.
const hookDoneMarker = "det-launcher: startup hook finished"

// jupyterCommand is the argv run inside the container.
func jupyterCommand() []string { return []string{"/bin/sh", "-c", jupyterScript} }

// writeTokenConfig writes the Jupyter config file that carries the
// server's token (mode 0600, in the private socket folder) and returns its
// path.
func writeTokenConfig(dir, token string) (string, error) {
	conf := map[string]map[string]string{"ServerApp": {"token": token}, "NotebookApp": {"token": token}}
	data, err := json.Marshal(conf)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "det_token_config.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("write the notebook server's config: %w", err)
	}
	return path, nil
}
