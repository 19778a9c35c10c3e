package taskconfig

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"
)

// Limits of a context: its files' contents in all (as Determined allows),
// and the archive the job unpacks.
const (
	MaxContextBytes  = 96 << 20
	MaxExpandedBytes = 1 << 30 // unpacked
	MaxContextFiles  = 100_000
)

// HookName is the startup hook run before Jupyter when the context has one.
const HookName = "startup-hook.sh"

// ignore is a .detignore: gitignore-style patterns, one per line; a
// pattern without a slash matches a name at any depth, a trailing slash
// matches only folders, a leading ! re-includes.
type ignore struct {
	patterns []string
	only     string // when set, everything but this top-level name is ignored
}

func loadIgnore(p string) (*ignore, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &ignore{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	ig := &ignore{}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			ig.patterns = append(ig.patterns, l)
		}
	}
	return ig, nil
}

func (ig *ignore) match(rel string, dir bool) bool {
	if ig.only != "" {
		return rel != ig.only
	}
	ignored := false
	for _, p := range ig.patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if strings.HasSuffix(p, "/") {
			if !dir {
				continue
			}
			p = strings.TrimSuffix(p, "/")
		}
		var ok bool
		if strings.Contains(p, "/") {
			ok, _ = path.Match(strings.TrimPrefix(p, "/"), rel)
		} else {
			ok, _ = path.Match(p, path.Base(rel))
		}
		if ok {
			ignored = !neg
		}
	}
	return ignored
}

// ExtractContext unpacks a context archive into dest, refusing absolute
// paths, "..", links that lead outside dest, device files, and archives
// that expand past the limits. With dest "" it only checks the archive, by
// the same rules, so the bridge refuses before queueing what the job would.
//
// Links are judged on the tree the archive builds, not on their text: a
// link's target is followed through the links the archive holds ("a -> ."
// then "b -> a/a/.." leads outside, though "a/a/.." reads as "a"). Nothing
// is unpacked under a link, no entry replaces another, and unpacking goes
// through an os.Root on dest, so nothing is written or followed outside it
// even midway.
func ExtractContext(data []byte, dest string) error {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("context archive: %w", err)
	}
	x := &extractor{kinds: map[string]entryKind{}, links: map[string]string{}}
	if dest != "" {
		if x.root, err = os.OpenRoot(dest); err != nil {
			return fmt.Errorf("unpack context: %w", err)
		}
		defer x.root.Close()
	}
	tr := tar.NewReader(gz)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return x.checkLinks()
		}
		if err != nil {
			return fmt.Errorf("context archive: %w", err)
		}
		if n >= MaxContextFiles {
			return fmt.Errorf("context archive: more than %d entries", MaxContextFiles)
		}
		if err := x.add(hdr, tr); err != nil {
			return err
		}
	}
}

type entryKind uint8

const (
	kindDir entryKind = iota + 1
	kindFile
	kindLink
)

// maxLinkHops is how many links a path may go through, as Linux allows.
const maxLinkHops = 40

// extractor is the tree an archive builds so far (each cleaned name and
// what it is, each link's target) and, when unpacking, the root it is
// built in.
type extractor struct {
	root  *os.Root // nil when only checking
	kinds map[string]entryKind
	links map[string]string
	total int64
}

func (x *extractor) add(hdr *tar.Header, r io.Reader) error {
	name := hdr.Name
	clean := path.Clean(name)
	if path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(name, "\x00") {
		return fmt.Errorf("context archive: %q leaves the working directory", name)
	}
	if clean == "." && hdr.Typeflag != tar.TypeDir {
		return fmt.Errorf("context archive: %q is not a name", name)
	}
	for dir := path.Dir(clean); dir != "."; dir = path.Dir(dir) {
		switch x.kinds[dir] {
		case kindLink:
			return fmt.Errorf("context archive: %q lies under the link %q", name, dir)
		case kindFile:
			return fmt.Errorf("context archive: %q lies under the file %q", name, dir)
		}
	}
	if k := x.kinds[clean]; k != 0 && !(k == kindDir && hdr.Typeflag == tar.TypeDir) {
		return fmt.Errorf("context archive: %q appears twice", name)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		x.markDirs(clean)
		if x.root != nil && clean != "." {
			if err := x.root.MkdirAll(clean, 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", name, err)
			}
		}
	case tar.TypeReg:
		x.total += hdr.Size
		if x.total > MaxExpandedBytes {
			return fmt.Errorf("context archive expands past %d MiB", MaxExpandedBytes>>20)
		}
		x.markDirs(path.Dir(clean))
		x.kinds[clean] = kindFile
		if x.root == nil {
			if _, err := io.Copy(io.Discard, io.LimitReader(r, hdr.Size)); err != nil {
				return fmt.Errorf("context archive: %w", err)
			}
			return nil
		}
		return x.writeFile(clean, r, hdr)
	case tar.TypeSymlink:
		l := hdr.Linkname
		resolved := path.Clean(path.Join(path.Dir(clean), l))
		if l == "" || strings.Contains(l, "\x00") {
			return fmt.Errorf("context archive: link %q has no usable target", name)
		}
		if path.IsAbs(l) || resolved == ".." || strings.HasPrefix(resolved, "../") {
			return fmt.Errorf("context archive: link %q -> %q leaves the working directory", name, l)
		}
		x.markDirs(path.Dir(clean))
		x.kinds[clean] = kindLink
		x.links[clean] = l
		if x.root != nil {
			if dir := path.Dir(clean); dir != "." {
				if err := x.root.MkdirAll(dir, 0o755); err != nil {
					return fmt.Errorf("unpack %s: %w", name, err)
				}
			}
			if err := x.root.Symlink(l, clean); err != nil {
				return fmt.Errorf("unpack %s: %w", name, err)
			}
		}
	default:
		return fmt.Errorf("context archive: %q is a device, pipe or hard link; only files, folders and links are allowed", name)
	}
	return nil
}

// markDirs records dir and its parents as folders.
func (x *extractor) markDirs(dir string) {
	for ; dir != "." && x.kinds[dir] == 0; dir = path.Dir(dir) {
		x.kinds[dir] = kindDir
	}
}

func (x *extractor) writeFile(name string, r io.Reader, hdr *tar.Header) error {
	if dir := path.Dir(name); dir != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("unpack %s: %w", hdr.Name, err)
		}
	}
	// O_EXCL|O_NOFOLLOW: never write through a link the archive made.
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, fs.FileMode(hdr.Mode)&0o755|0o600)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", hdr.Name, err)
	}
	_, err = io.Copy(f, io.LimitReader(r, hdr.Size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkLinks follows every link of the finished tree and refuses the
// archive when one leads outside it (or through too many links). When
// unpacking, such links are removed before the error is returned.
func (x *extractor) checkLinks() error {
	names := make([]string, 0, len(x.links))
	for n := range x.links {
		names = append(names, n)
	}
	sort.Strings(names)
	var first error
	for _, n := range names {
		err := x.follow(path.Dir(n) + "/" + x.links[n])
		if err == nil {
			continue
		}
		if first == nil {
			first = fmt.Errorf("context archive: link %q -> %q %w", n, x.links[n], err)
		}
		if x.root != nil {
			_ = x.root.Remove(n)
		}
	}
	return first
}

var (
	errLeaves  = errors.New("leaves the working directory once the links on its way are followed")
	errTooDeep = fmt.Errorf("goes through more than %d links (or a loop of links)", maxLinkHops)
)

// follow resolves p, a slash-separated path from the top of the tree
// (not cleaned: "a/.." after a link to a folder is that folder's parent),
// through the tree's links as the kernel would, and says whether it stays
// inside. Names the tree does not hold are taken as plain folders.
func (x *extractor) follow(p string) error {
	var at []string // the resolved folders from the top
	todo := strings.Split(p, "/")
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(at) == 0 {
				return errLeaves
			}
			at = at[:len(at)-1]
			continue
		}
		cur := strings.Join(append(at, c), "/")
		if target, ok := x.links[cur]; ok {
			if hops++; hops > maxLinkHops {
				return errTooDeep
			}
			if path.IsAbs(target) {
				return errLeaves
			}
			todo = append(strings.Split(target, "/"), todo...)
			continue
		}
		at = append(at, c)
	}
	return nil
}
