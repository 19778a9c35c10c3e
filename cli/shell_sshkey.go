package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// writeShellFile writes a file of a shell's (its private key, its host
// key) to <cacheDir>/det/shell/<id>/<name> and returns that path. The
// folders under cacheDir are made mode 0700 (or set so) and must be this
// user's; they are opened one at a time without following a link. An old
// file is removed and the new one created mode 0600 with
// O_EXCL|O_NOFOLLOW, so a link planted in its place is neither followed
// nor written through.
func writeShellFile(cacheDir, id, name string, data []byte) (string, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") {
		return "", fmt.Errorf("shell id %q cannot name a folder", id)
	}
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return "", fmt.Errorf("create the cache folder: %w", err)
	}
	dir, err := unix.Open(cacheDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("open the cache folder %s: %w", cacheDir, err)
	}
	path := cacheDir
	for _, name := range []string{"det", "shell", id} {
		path = filepath.Join(path, name)
		next, err := openPrivateDir(dir, name)
		unix.Close(dir)
		if err != nil {
			return "", fmt.Errorf("key folder %s: %w", path, err)
		}
		dir = next
	}
	defer unix.Close(dir)
	path = filepath.Join(path, name)
	if err := unix.Unlinkat(dir, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return "", fmt.Errorf("remove the old %s: %w", path, err)
	}
	fd, err := unix.Openat(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	if err := f.Chmod(0o600); err != nil { // the umask may have narrowed it
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// openPrivateDir makes the folder name in dir (mode 0700) unless it is
// there, and opens it without following a link: it must be a folder of
// this user, and is set to mode 0700.
func openPrivateDir(dir int, name string) (int, error) {
	if err := unix.Mkdirat(dir, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("create: %w", err)
	}
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return -1, errors.New("not a folder (a link, or a file); remove it")
	}
	if err != nil {
		return -1, fmt.Errorf("open: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("stat: %w", err)
	}
	if int(st.Uid) != os.Geteuid() {
		unix.Close(fd)
		return -1, fmt.Errorf("belongs to uid %d, not to you", st.Uid)
	}
	if st.Mode&0o7777 != 0o700 {
		if err := unix.Fchmod(fd, 0o700); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("set mode 0700: %w", err)
		}
	}
	return fd, nil
}
