package bridge

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/api"
)

// The bridge runs notebooks and shells only. Determined's lists of the
// task kinds it does not run (commands, TensorBoards, config templates)
// answer empty, which is true here, so tools that list everything work;
// launching one is refused with a message that says why.
func (s *Server) routeOtherKinds(authed *mux.Router) {
	empty := map[string]any{
		"/commands":     map[string]any{"commands": []any{}},
		"/tensorboards": map[string]any{"tensorboards": []any{}},
		"/templates":    map[string]any{"templates": []any{}, "pagination": api.Pagination{}},
	}
	for path, body := range empty {
		authed.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, body) }).Methods(http.MethodGet)
	}
	for path, what := range map[string]string{"/commands": "commands (det cmd run)", "/tensorboards": "TensorBoards"} {
		msg := "this bridge runs notebooks and shells on Slurm, not " + what + ": start a notebook or a shell and run it there"
		authed.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { writeError(w, http.StatusNotImplemented, msg) }).Methods(http.MethodPost)
	}
}
