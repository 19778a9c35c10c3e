package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
	"gopkg.in/yaml.v3"

	"github.com/det-slurm/bridge/taskconfig"
)

// console is the streams a command uses: it writes to Out and ErrOut,
// and reads secrets from In, without echo on a terminal or a line at a
// time from a pipe.
type console struct {
	IO
	lines *bufio.Reader // In, line by line; made on first use
}

func newConsole(s IO) *console { return &console{IO: s} }

// readPassword asks for a user's password.
func (c *console) readPassword(name string) (string, error) {
	return c.readSecret(fmt.Sprintf("Password for user '%s': ", name))
}

// readSecret asks for a secret with prompt without echo on a terminal, or
// reads the next line from a pipe (one line per call; "" at its end).
func (c *console) readSecret(prompt string) (string, error) {
	if f, ok := c.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.ErrOut, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	if c.lines == nil {
		c.lines = bufio.NewReader(c.In)
	}
	line, err := c.lines.ReadString('\n')
	if err != nil && line == "" {
		return "", nil
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// onTerminal reports whether secrets are typed (not piped).
func (c *console) onTerminal() bool {
	f, ok := c.In.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printJSON prints v indented, as every --json of the CLI does.
func (c *console) printJSON(v any) error {
	enc := json.NewEncoder(c.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printConfig prints a merged config (JSON, as the API sends it) as YAML,
// with Determined's field names.
func (c *console) printConfig(raw json.RawMessage) error {
	var cfg taskconfig.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	out, err := yaml.Marshal(&cfg)
	if err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	_, err = c.Out.Write(out)
	return err
}
