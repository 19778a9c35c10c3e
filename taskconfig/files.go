package taskconfig

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/det-slurm/bridge/api"
)

// Limits of a path in a launch's files: Linux's PATH_MAX and NAME_MAX.
const (
	maxPathBytes = 4096
	maxNameBytes = 255
)

// ArchiveFiles checks the files of a launch request (Determined's v1File
// list) and writes them as the gzipped tar the job unpacks (see
// ExtractContext); nil for no files. Each path must be relative and
// clean, inside the working directory, and appear once (a folder may
// repeat); only regular files and folders are taken, and the contents may
// hold at most MaxContextBytes in all. An error names the entry's path.
func ArchiveFiles(files []api.File) ([]byte, error) {
	return archiveFiles(files, MaxContextBytes)
}

// archiveFiles is ArchiveFiles with at most limit bytes of content.
func archiveFiles(files []api.File, limit int) ([]byte, error) {
	if len(files) == 0 {
		return nil, nil
	}
	if len(files) > MaxContextFiles {
		return nil, fmt.Errorf("%d entries, more than the %d allowed", len(files), MaxContextFiles)
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // the level is valid
	tw := tar.NewWriter(gz)
	kinds := make(map[string]int, len(files))
	total := 0
	for _, f := range files {
		name, err := checkFile(f, kinds)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", quotePath(f.Path), err)
		}
		hdr := &tar.Header{Name: name, Mode: f.Mode & 0o777, ModTime: time.Unix(int64(f.Mtime), 0), Format: tar.FormatPAX}
		var data []byte
		if f.Type == api.FileTypeDir {
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		} else {
			if total+base64.StdEncoding.DecodedLen(len(f.Content)) > limit+3 {
				return nil, fmt.Errorf("%s: the files hold more than the %d MiB allowed", quotePath(f.Path), limit>>20)
			}
			if data, err = base64.StdEncoding.DecodeString(f.Content); err != nil {
				return nil, fmt.Errorf("%s: content is not standard base64: %w", quotePath(f.Path), err)
			}
			if total += len(data); total > limit {
				return nil, fmt.Errorf("%s: the files hold more than the %d MiB allowed", quotePath(f.Path), limit>>20)
			}
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("%s: %w", quotePath(f.Path), err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("%s: %w", quotePath(f.Path), err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkFile checks one entry against the rules and the entries before it
// (kinds: each path so far and its type, each parent folder as a folder)
// and returns its cleaned path.
func checkFile(f api.File, kinds map[string]int) (string, error) {
	if f.Type != api.FileTypeRegular && f.Type != api.FileTypeDir {
		return "", fmt.Errorf("is %s; only regular files (type 48, '0') and folders (type 53, '5') can be sent", typeName(f.Type))
	}
	p := f.Path
	if f.Type == api.FileTypeDir {
		p = strings.TrimSuffix(p, "/")
	}
	if err := checkPath(p); err != nil {
		return "", err
	}
	if f.Type == api.FileTypeDir && f.Content != "" {
		return "", fmt.Errorf("is a folder with content")
	}
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		if kinds[dir] == api.FileTypeRegular {
			return "", fmt.Errorf("lies under the file %s", quotePath(dir))
		}
	}
	if k := kinds[p]; k != 0 && !(k == api.FileTypeDir && f.Type == api.FileTypeDir) {
		return "", fmt.Errorf("appears twice")
	}
	kinds[p] = f.Type
	for dir := path.Dir(p); dir != "." && kinds[dir] == 0; dir = path.Dir(dir) {
		kinds[dir] = api.FileTypeDir
	}
	return p, nil
}

// checkPath refuses a path that is not a clean relative path inside the
// working directory.
func checkPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("has no path")
	case len(p) > maxPathBytes:
		return fmt.Errorf("is longer than %d bytes", maxPathBytes)
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("holds a NUL byte")
	case path.IsAbs(p):
		return fmt.Errorf("is absolute; paths are relative to the working directory")
	case p == ".":
		return fmt.Errorf("is the working directory itself")
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Errorf("leaves the working directory")
		}
		if len(part) > maxNameBytes {
			return fmt.Errorf("has a name longer than %d bytes", maxNameBytes)
		}
	}
	if path.Clean(p) != p {
		return fmt.Errorf("is not a clean path (it has an empty or \".\" part, or a trailing slash)")
	}
	return nil
}

// typeName says what a tar type flag is.
func typeName(t int) string {
	switch t {
	case tar.TypeLink:
		return "a hard link (type 49, '1')"
	case tar.TypeSymlink:
		return "a symbolic link (type 50, '2')"
	case tar.TypeChar, tar.TypeBlock:
		return fmt.Sprintf("a device (type %d, %q)", t, rune(t))
	case tar.TypeFifo:
		return "a pipe (type 54, '6')"
	}
	if t > ' ' && t < 127 {
		return fmt.Sprintf("of type %d (%q)", t, rune(t))
	}
	return fmt.Sprintf("of type %d", t)
}

// quotePath quotes a path for an error message, shortened so that a
// refusal never echoes a long value.
func quotePath(p string) string {
	const most = 200
	if len(p) > most {
		return fmt.Sprintf("%q...", p[:most])
	}
	return fmt.Sprintf("%q", p)
}
