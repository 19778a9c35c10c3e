// Package jobdir creates job folders and reads the files jobs write there.
// The bridge runs as root and a job folder belongs to the job's user, so
// nothing here follows a link, opens a non-regular file or reads unbounded.
package jobdir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

var (
	// ErrNotRegular means a name in a job folder is a link, a folder, a
	// device, a FIFO or a socket, or was linked in from elsewhere.
	ErrNotRegular = errors.New("not a regular file of the job")
	// ErrTooLarge means a file is larger than the caller's bound.
	ErrTooLarge = errors.New("file too large")
)

// File is one file written into a new job folder.
type File struct {
	Name string      // a plain name, no slash
	Data []byte      //
	Mode fs.FileMode // permission bits
}

// Owner is the POSIX user a job folder is given to; a negative Uid leaves
// owners alone (a bridge that is not root).
type Owner struct {
	Uid, Gid int
}

// Create makes root/user/id with files in it and gives it to owner. The
// user folder belongs to root (mode 0711) so that the job's user cannot
// swap the job folder while it is being written; the job folder is made by
// root with mode 0700 and handed over, with its files, through their
// descriptors once everything is written. On error nothing is left.
func Create(root, user, id string, owner Owner, files []File) (err error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("open job storage root: %w", err)
	}
	defer r.Close()
	if err := userDir(r, user, owner); err != nil {
		return err
	}
	rel := filepath.Join(user, id)
	if err := r.Mkdir(rel, 0o700); err != nil {
		return fmt.Errorf("create job folder: %w", err)
	}
	defer func() {
		if err != nil {
			_ = r.RemoveAll(rel)
		}
	}()
	d, err := r.OpenRoot(rel)
	if err != nil {
		return fmt.Errorf("open job folder: %w", err)
	}
	defer d.Close()
	for _, f := range files {
		if err := writeFile(d, f, owner); err != nil {
			return err
		}
	}
	if owner.Uid >= 0 {
		dir, err := d.Open(".")
		if err != nil {
			return fmt.Errorf("open job folder: %w", err)
		}
		defer dir.Close()
		if err := dir.Chown(owner.Uid, owner.Gid); err != nil {
			return fmt.Errorf("give job folder to uid %d: %w", owner.Uid, err)
		}
	}
	return nil
}

// userDir makes sure root/user is a real folder that only root can write.
// A folder left by an older version, owned by the user, is taken back.
func userDir(r *os.Root, user string, owner Owner) error {
	if err := r.Mkdir(user, 0o711); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create user folder: %w", err)
	}
	lst, err := r.Lstat(user)
	if err != nil {
		return fmt.Errorf("check user folder: %w", err)
	}
	if !lst.IsDir() {
		return fmt.Errorf("user folder %s is not a folder (%s)", user, lst.Mode().Type())
	}
	if owner.Uid < 0 {
		return nil
	}
	f, err := r.Open(user)
	if err != nil {
		return fmt.Errorf("open user folder: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !os.SameFile(st, lst) {
		return fmt.Errorf("user folder %s changed while it was checked", user)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid == 0 && sys.Gid == 0 && st.Mode().Perm() == 0o711 {
		return nil
	}
	if err := f.Chown(0, 0); err != nil {
		return fmt.Errorf("take user folder %s: %w", user, err)
	}
	if err := f.Chmod(0o711); err != nil {
		return fmt.Errorf("take user folder %s: %w", user, err)
	}
	return nil
}

func writeFile(d *os.Root, f File, owner Owner) error {
	w, err := d.OpenFile(f.Name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.Mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", f.Name, err)
	}
	if _, err := w.Write(f.Data); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", f.Name, err)
	}
	if err := w.Chmod(f.Mode); err != nil { // the umask may have narrowed it
		w.Close()
		return fmt.Errorf("write %s: %w", f.Name, err)
	}
	if owner.Uid >= 0 {
		if err := w.Chown(owner.Uid, owner.Gid); err != nil {
			w.Close()
			return fmt.Errorf("give %s to uid %d: %w", f.Name, owner.Uid, err)
		}
	}
	return w.Close()
}

// Open opens the file name in the job folder dir (<root>/<user>/<id>)
// for reading. The folder is reached from <root> one component at a time
// without following a link, so a link anywhere under the root is refused;
// the file must be a regular file with one name, owned by the folder's
// owner, who must not be root when the bridge is. It never blocks on a
// FIFO.
func Open(dir, name string) (*os.File, error) {
	path := filepath.Join(dir, name)
	root := filepath.Dir(filepath.Dir(dir))
	dfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	for _, comp := range []string{filepath.Base(filepath.Dir(dir)), filepath.Base(dir)} {
		next, err := unix.Openat(dfd, comp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(dfd)
		if err != nil {
			if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
				err = ErrNotRegular
			}
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		dfd = next
	}
	defer unix.Close(dfd)
	var dst unix.Stat_t
	if err := unix.Fstat(dfd, &dst); err != nil {
		return nil, &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	if dst.Uid == 0 && os.Geteuid() == 0 {
		return nil, &os.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			err = ErrNotRegular
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 || st.Uid != dst.Uid {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ReadFile reads a whole file of the job folder through Open, refusing one
// larger than max bytes.
func ReadFile(dir, name string, max int64) ([]byte, error) {
	f, err := Open(dir, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &os.PathError{Op: "read", Path: f.Name(), Err: ErrTooLarge}
	}
	return data, nil
}

// CheckRoot refuses a job storage root that a user could change: when the
// bridge is root, the folder and every folder above it must be root's and
// writable by root alone (a sticky folder such as /tmp counts as safe
// above the root), else a user could put a folder or a link of their own
// in a user's place.
func CheckRoot(root string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	for p := abs; ; p = filepath.Dir(p) {
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok || !st.IsDir() {
			return fmt.Errorf("%s is not a folder (links are not followed)", p)
		}
		sticky := st.Mode()&os.ModeSticky != 0 && p != abs
		if sys.Uid != 0 || (st.Mode().Perm()&0o022 != 0 && !sticky) {
			return fmt.Errorf("%s must belong to root and be writable by root alone (chown root %s; chmod go-w %s)", p, p, p)
		}
		if p == "/" {
			return nil
		}
	}
}
