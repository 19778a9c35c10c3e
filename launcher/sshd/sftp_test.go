package sshd

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/sftp"
)

func TestSFTPPutGet(t *testing.T) {
	ts := startServer(t)
	c, err := sftp.NewClient(ts.client(t))
	if err != nil {
		t.Fatalf("sftp subsystem: %v", err)
	}
	defer c.Close()
	data := make([]byte, 5<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)

	f, err := c.Create("big.bin") // relative: in the working folder
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(filepath.Join(ts.dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(onDisk) != want {
		t.Fatal("the file written differs from the one sent")
	}

	g, err := c.Open(filepath.Join(ts.dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	h := sha256.New()
	if _, err := g.WriteTo(h); err != nil {
		t.Fatalf("get: %v", err)
	}
	if !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("the file read differs from the one written")
	}
	if wd, err := c.Getwd(); err != nil || wd != ts.dir {
		t.Fatalf("Getwd: %q, %v; want %q", wd, err, ts.dir)
	}
}
