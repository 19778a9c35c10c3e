package launcher

// jupyterScript starts whichever Jupyter the image has. It is fixed text:
// every value reaches it through the environment and is only ever
// expanded inside double quotes, never parsed as shell.
const jupyterScript = hookScript + `if command -v jupyter-lab >/dev/null 2>&1; then
  exec jupyter-lab --no-browser --ip=0.0.0.0 --port="$DET_PORT" \
    --ServerApp.base_url="$DET_BASE_URL" --ServerApp.root_dir="$DET_CONTAINER_WORKDIR" \
    --ServerApp.allow_origin="$DET_ALLOW_ORIGIN" --ServerApp.open_browser=False
elif command -v jupyter-notebook >/dev/null 2>&1; then
  exec jupyter-notebook --no-browser --ip=0.0.0.0 --port="$DET_PORT" \
    --NotebookApp.base_url="$DET_BASE_URL" --NotebookApp.notebook_dir="$DET_CONTAINER_WORKDIR" \
    --NotebookApp.allow_origin="$DET_ALLOW_ORIGIN"
else
  echo "det-launcher: the image has neither jupyter-lab nor jupyter-notebook" >&2
  exit 127
fi
`

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
const shellScript = hookScript + `cd "$DET_CONTAINER_WORKDIR" 2>/dev/null
if command -v bash >/dev/null 2>&1; then
  exec bash -l
fi
exec sh -l
`

// hookDoneMarker is printed once the startup hook has returned 0.
const hookDoneMarker = "det-launcher: startup hook finished"

// jupyterCommand is the argv run inside the container.
func jupyterCommand() []string { return []string{"/bin/sh", "-c", jupyterScript} }
