package launcher

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sylabs/singularity/v4/pkg/image"

	"github.com/det-slurm/bridge/jobspec"
)

// RunCheckImage is `det-launcher check-image PATH`: it prints the
// api.ImageCheck verdict on path as JSON to w and returns the exit status
// (0 whenever a verdict was printed).
func RunCheckImage(w io.Writer, path string) int {
	v := CheckImage(path, jobspec.ImageCheckTimeout)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return 1
	}
	return 0
}

// CheckImage says whether path is a container image the runtime can
// start: a SIF or squashfs file, or a sandbox folder. It follows links,
// but opens only regular files and folders (a named pipe or a device is
// refused without being opened), and gives up after timeout. It runs as
// the job's user, so what it reports is what that user may see.
func CheckImage(path string, timeout time.Duration) jobspec.ImageCheck {
	return checkImage(path, timeout, imageType)
}

// checkImage is CheckImage with the format detection as a parameter.
func checkImage(path string, timeout time.Duration, detect func(string) (string, error)) jobspec.ImageCheck {
	done := make(chan jobspec.ImageCheck, 1)
	go func() { done <- inspectImage(path, detect) }()
	select {
	case v := <-done:
		return v
	case <-time.After(timeout):
		// Something is stuck: a file system that does not answer, or a
		// path swapped for a pipe after it was looked at. The process
		// ends soon after this verdict, and the stuck call with it.
		return jobspec.ImageCheck{Problem: jobspec.ImageTimeout, Detail: fmt.Sprintf("reading it took longer than %s", timeout)}
	}
}

// inspectImage looks at path and, if it is a file or folder, detects its
// format.
func inspectImage(path string, detect func(string) (string, error)) jobspec.ImageCheck {
	if !filepath.IsAbs(path) {
		return jobspec.ImageCheck{Problem: jobspec.ImageUnreadable, Detail: "not an absolute path"}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return jobspec.ImageCheck{Problem: jobspec.ImageUnreadable, Detail: describeErr(err)}
	}
	if v, ok := fileOrFolder(fi); !ok {
		return v
	}
	// The path may have changed since the stat: open without blocking
	// (a named pipe would block) and look at what was opened.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return jobspec.ImageCheck{Problem: jobspec.ImageUnreadable, Detail: describeErr(err)}
	}
	opened, err := f.Stat()
	f.Close()
	if err != nil {
		return jobspec.ImageCheck{Problem: jobspec.ImageUnreadable, Detail: describeErr(err)}
	}
	if v, ok := fileOrFolder(opened); !ok {
		return v
	}
	typ, err := detect(path)
	switch {
	case errors.Is(err, image.ErrUnknownFormat) || (err == nil && typ == ""):
		return jobspec.ImageCheck{Problem: jobspec.ImageFormat, Detail: "not a SIF, squashfs or sandbox folder"}
	case err != nil:
		return jobspec.ImageCheck{Problem: jobspec.ImageUnreadable, Detail: err.Error()}
	}
	return jobspec.ImageCheck{Type: typ}
}

// imageType detects an image's format with the runtime's own code: "sif",
// "squashfs", "sandbox", or "" for another format it knows.
func imageType(path string) (string, error) {
	im, err := image.Init(path, false)
	if err != nil {
		return "", err
	}
	defer im.File.Close()
	switch im.Type {
	case image.SIF:
		return "sif", nil
	case image.SQUASHFS:
		return "squashfs", nil
	case image.SANDBOX:
		return "sandbox", nil
	}
	return "", nil
}

// fileOrFolder refuses anything but a regular file or a folder.
func fileOrFolder(fi fs.FileInfo) (jobspec.ImageCheck, bool) {
	m := fi.Mode()
	if m.IsRegular() || m.IsDir() {
		return jobspec.ImageCheck{}, true
	}
	kind := "a special file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return jobspec.ImageCheck{Problem: jobspec.ImageNotFile, Detail: kind + ", not a file or folder"}, false
}

// describeErr says why a path cannot be used, in words that do not repeat
// the path (the user gave it).
func describeErr(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err.Error()
		}
		return err.Error()
	}
	switch errno {
	case syscall.ENOENT:
		return "it does not exist"
	case syscall.EACCES, syscall.EPERM:
		return fmt.Sprintf("the job's user (uid %d) may not read it", os.Geteuid())
	case syscall.ENOTDIR:
		return "a part of the path is not a folder"
	case syscall.ELOOP:
		return "too many levels of links"
	}
	return errno.Error()
}
