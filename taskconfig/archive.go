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
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Limits of a context archive.
const (
	MaxContextBytes  = 96 << 20 // packed, as Determined allows
	MaxExpandedBytes = 1 << 30  // unpacked
	MaxContextFiles  = 100_000
)

// HookName is the startup hook run before Jupyter when the context has one.
const HookName = "startup-hook.sh"

// PackContext archives dir (honouring its .detignore) and each include
// path (a file or folder, placed by its base name) as a gzipped tar.
func PackContext(dir string, includes []string) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	type entry struct {
		name string
		size int64
	}
	var files []entry
	add := func(root, prefix string, ign *ignore) error {
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			if rel == "." {
				return nil
			}
			if ign != nil && ign.match(rel, d.IsDir()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			name := path.Join(prefix, rel)
			link := ""
			if info.Mode()&fs.ModeSymlink != 0 {
				if link, err = os.Readlink(p); err != nil {
					return err
				}
			} else if !info.Mode().IsRegular() && !info.IsDir() {
				return nil // sockets, devices and pipes are not context
			}
			hdr, err := tar.FileInfoHeader(info, link)
			if err != nil {
				return err
			}
			hdr.Name = name
			hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if info.Mode().IsRegular() {
				files = append(files, entry{name, info.Size()})
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				_, err = io.Copy(tw, f)
				f.Close()
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if dir != "" {
		ign, err := loadIgnore(filepath.Join(dir, ".detignore"))
		if err != nil {
			return nil, err
		}
		if err := add(dir, "", ign); err != nil {
			return nil, fmt.Errorf("--context %s: %w", dir, err)
		}
	}
	for _, inc := range includes {
		info, err := os.Lstat(inc)
		if err != nil {
			return nil, fmt.Errorf("--include: %w", err)
		}
		base := filepath.Base(filepath.Clean(inc))
		if info.IsDir() {
			hdr := &tar.Header{Typeflag: tar.TypeDir, Name: base + "/", Mode: 0o755}
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, err
			}
			if err := add(inc, base, nil); err != nil {
				return nil, fmt.Errorf("--include %s: %w", inc, err)
			}
			continue
		}
		if err := add(filepath.Dir(inc), "", &ignore{only: base}); err != nil {
			return nil, fmt.Errorf("--include %s: %w", inc, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	if buf.Len() > MaxContextBytes {
		sort.Slice(files, func(i, j int) bool { return files[i].size > files[j].size })
		var big []string
		for i := 0; i < len(files) && i < 5; i++ {
			big = append(big, fmt.Sprintf("%s (%.1f MiB)", files[i].name, float64(files[i].size)/(1<<20)))
		}
		return nil, fmt.Errorf("the context is %.1f MiB packed, more than the %d MiB allowed; the largest files: %s (list them in .detignore)",
			float64(buf.Len())/(1<<20), MaxContextBytes>>20, strings.Join(big, ", "))
	}
	return buf.Bytes(), nil
}

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
// paths, "..", links that leave dest, device files, and archives that
// expand past the limits. With dest "" it only checks the archive.
func ExtractContext(data []byte, dest string) error {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("context archive: %w", err)
	}
	tr := tar.NewReader(gz)
	var total int64
	links := map[string]bool{} // entries that are links: nothing may be unpacked through them
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("context archive: %w", err)
		}
		if n >= MaxContextFiles {
			return fmt.Errorf("context archive: more than %d entries", MaxContextFiles)
		}
		name := hdr.Name
		clean := path.Clean(name)
		if path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(name, "\x00") {
			return fmt.Errorf("context archive: %q leaves the working directory", name)
		}
		for dir := path.Dir(clean); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if links[dir] {
				return fmt.Errorf("context archive: %q lies under the link %q", name, dir)
			}
		}
		target := ""
		if dest != "" {
			target = filepath.Join(dest, filepath.FromSlash(clean))
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if target != "" {
				if err := os.MkdirAll(target, 0o755); err != nil {
					return err
				}
			}
		case tar.TypeReg:
			total += hdr.Size
			if total > MaxExpandedBytes {
				return fmt.Errorf("context archive expands past %d MiB", MaxExpandedBytes>>20)
			}
			if target == "" {
				if _, err := io.Copy(io.Discard, io.LimitReader(tr, hdr.Size)); err != nil {
					return fmt.Errorf("context archive: %w", err)
				}
				continue
			}
			if err := writeFile(target, tr, hdr); err != nil {
				return err
			}
		case tar.TypeSymlink:
			l := hdr.Linkname
			resolved := path.Clean(path.Join(path.Dir(clean), l))
			if path.IsAbs(l) || resolved == ".." || strings.HasPrefix(resolved, "../") {
				return fmt.Errorf("context archive: link %q -> %q leaves the working directory", name, l)
			}
			links[clean] = true
			if target != "" {
				if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
					return err
				}
				if err := os.Symlink(l, target); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("context archive: %q is a device, pipe or hard link; only files, folders and links are allowed", name)
		}
	}
}

func writeFile(target string, r io.Reader, hdr *tar.Header) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	// O_EXCL|O_NOFOLLOW: never write through a link the archive made.
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, fs.FileMode(hdr.Mode)&0o755|0o600)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", hdr.Name, err)
	}
	_, err = io.Copy(f, io.LimitReader(r, hdr.Size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
