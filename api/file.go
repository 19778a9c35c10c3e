package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Types of a File: tar's type flags, as Determined's CLI sends them.
const (
	FileTypeRegular = '0' // 48
	FileTypeDir     = '5' // 53
)

// File is one entry of a launch's context (Determined's v1File), from
// `-c DIR` and `--include`: a regular file or a folder, by its path
// relative to the working directory.
type File struct {
	Path string `json:"path"`
	Type int    `json:"type"` // FileTypeRegular or FileTypeDir
	// Content is the file's bytes in standard, padded base64; "" for a
	// folder.
	Content string `json:"content"`
	// Mode is the full st_mode (type and permission bits).
	Mode  int64       `json:"mode"`
	Mtime UnixSeconds `json:"mtime"`
	UID   int         `json:"uid"`
	GID   int         `json:"gid"`
}

// UnixSeconds is a time in seconds since 1970, which Determined's clients
// send as a string (protobuf's int64) or as a number. It is sent as a
// string.
type UnixSeconds int64

// MarshalJSON writes the seconds as a JSON string.
func (u UnixSeconds) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(u), 10) + `"`), nil
}

// UnmarshalJSON reads a JSON string or number of seconds (a fraction is
// dropped); null leaves the value as it is.
func (u *UnixSeconds) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("mtime: %w", err)
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*u = UnixSeconds(n)
		return nil
	}
	// A number some encoder wrote with a fraction or an exponent.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > math.MaxInt64/2 {
		return fmt.Errorf("mtime: %q is not a number of seconds", s)
	}
	*u = UnixSeconds(f)
	return nil
}
