package taskconfig

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/det-slurm/bridge/api"
)

// ContextFiles reads dir (honouring its .detignore) and each include path
// (a file or folder, placed by its base name) into the files of a launch
// request. A link to a file is sent as the file it leads to; links to
// folders, broken links, sockets, devices and pipes are left out, and
// skipped names them.
func ContextFiles(dir string, includes []string) (files []api.File, skipped []string, err error) {
	return contextFiles(dir, includes, MaxContextBytes)
}

// source is one entry found for the context: its name in the working
// directory, where it is read from, and what it is.
type source struct {
	name string
	from string
	info fs.FileInfo // of the file a link leads to
}

// contextFiles is ContextFiles with a limit of limit bytes of content.
func contextFiles(dir string, includes []string, limit int) ([]api.File, []string, error) {
	var found []source
	var skipped []string
	isDir := map[string]bool{} // each name so far: whether it is a folder
	add := func(s source) error {
		if dir, ok := isDir[s.name]; ok && !(dir && s.info.IsDir()) {
			return fmt.Errorf("%s is in the context twice", s.name)
		}
		isDir[s.name] = s.info.IsDir()
		found = append(found, s)
		return nil
	}
	walk := func(root, prefix string, ign *ignore) error {
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
			name := path.Join(prefix, rel)
			info, err := os.Stat(p) // a link: what it leads to
			if err != nil || (!info.Mode().IsRegular() && !info.IsDir()) || (d.Type()&fs.ModeSymlink != 0 && info.IsDir()) {
				skipped = append(skipped, name)
				return nil
			}
			return add(source{name: name, from: p, info: info})
		})
	}
	if dir != "" {
		if info, err := os.Stat(dir); err != nil {
			return nil, nil, fmt.Errorf("--context: %w", err)
		} else if !info.IsDir() {
			return nil, nil, fmt.Errorf("--context %s is not a folder (--include takes a file)", dir)
		}
		ign, err := loadIgnore(filepath.Join(dir, ".detignore"))
		if err != nil {
			return nil, nil, err
		}
		if err := walk(dir, "", ign); err != nil {
			return nil, nil, fmt.Errorf("--context %s: %w", dir, err)
		}
	}
	for _, inc := range includes {
		info, err := os.Stat(inc)
		if err != nil {
			return nil, nil, fmt.Errorf("--include: %w", err)
		}
		base := filepath.Base(filepath.Clean(inc))
		if base == "/" || base == "." || base == ".." {
			return nil, nil, fmt.Errorf("--include %s: the path has no name to give the copy", inc)
		}
		if !info.IsDir() && !info.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("--include %s: not a file or a folder", inc)
		}
		if err := add(source{name: base, from: inc, info: info}); err != nil {
			return nil, nil, fmt.Errorf("--include %s: %w", inc, err)
		}
		if info.IsDir() {
			if err := walk(inc, base, nil); err != nil {
				return nil, nil, fmt.Errorf("--include %s: %w", inc, err)
			}
		}
	}
	if err := checkSize(found, limit); err != nil {
		return nil, nil, err
	}
	files := make([]api.File, 0, len(found))
	for _, s := range found {
		f := api.File{Path: s.name, Type: api.FileTypeDir, Mode: stMode(s.info.Mode()), Mtime: api.UnixSeconds(s.info.ModTime().Unix())}
		if !s.info.IsDir() {
			data, err := os.ReadFile(s.from)
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", s.from, err)
			}
			f.Type, f.Content = api.FileTypeRegular, base64.StdEncoding.EncodeToString(data)
		}
		files = append(files, f)
	}
	return files, skipped, nil
}

// checkSize refuses a context with more than limit bytes of content or
// more than MaxContextFiles entries, naming its largest files.
func checkSize(found []source, limit int) error {
	if len(found) > MaxContextFiles {
		return fmt.Errorf("the context has %d entries, more than the %d allowed (list some in .detignore)", len(found), MaxContextFiles)
	}
	var total int64
	for _, s := range found {
		if !s.info.IsDir() {
			total += s.info.Size()
		}
	}
	if total <= int64(limit) {
		return nil
	}
	bySize := append([]source(nil), found...)
	sort.Slice(bySize, func(i, j int) bool { return bySize[i].info.Size() > bySize[j].info.Size() })
	var big []string
	for i := 0; i < len(bySize) && len(big) < 5; i++ {
		if !bySize[i].info.IsDir() {
			big = append(big, fmt.Sprintf("%s (%.1f MiB)", bySize[i].name, float64(bySize[i].info.Size())/(1<<20)))
		}
	}
	return fmt.Errorf("the context is %.1f MiB, more than the %d MiB allowed; the largest files: %s (list them in .detignore)",
		float64(total)/(1<<20), limit>>20, strings.Join(big, ", "))
}

// stMode is the POSIX st_mode of a file of mode m (a regular file or a
// folder), as Determined's CLI sends it.
func stMode(m fs.FileMode) int64 {
	v := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	if m.IsDir() {
		return v | 0o040000
	}
	return v | 0o100000
}
