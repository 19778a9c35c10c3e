package jobspec

import "time"

// ImageCheck is what `det-launcher check-image PATH` prints on its
// standard output (one JSON object, exit status 0) about a container
// image. The bridge runs it as the job's POSIX user before it queues a
// job, so the check sees only what that user may see.
type ImageCheck struct {
	// Type is "sif", "squashfs" or "sandbox" when the image is usable.
	Type string `json:"type,omitempty"`
	// Problem, when the image is not usable, is one of the Image*
	// values below; Detail says what is wrong, for the user.
	Problem string `json:"problem,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// ImageCheck problems.
const (
	ImageUnreadable = "unreadable" // missing, not permitted, or not openable
	ImageNotFile    = "not-file"   // a named pipe, device or socket
	ImageFormat     = "format"     // a file or folder, but no image the runtime can start
	ImageTimeout    = "timeout"    // the check did not finish in time
)

// ImageCheckTimeout is how long det-launcher check-image reads an image
// before it answers ImageTimeout; the bridge waits a little longer.
const ImageCheckTimeout = 8 * time.Second

// ResolvedPath is one answer of `det-launcher resolve`: where Path leads
// once its links are followed (Real), or why it cannot be looked up.
type ResolvedPath struct {
	Path    string `json:"path"`
	Real    string `json:"real,omitempty"`
	Problem string `json:"problem,omitempty"`
}
