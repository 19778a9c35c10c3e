package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gorilla/websocket"
	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// closeWait bounds the sending of the close message when standard input
// ends.
const closeWait = 5 * time.Second

func newShellTunnelCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "tunnel ID",
		Short: "Carry an SSH connection to a shell on standard input and output (ssh's ProxyCommand)",
		Long: `Carry one SSH connection to the SSH server of a running shell (ID: its id or a
unique prefix): what comes on standard input goes to the server through the
bridge (a websocket at the shell's address, /proxy/<id>/), and what the server
sends comes out on standard output, nothing else. When standard input ends, the
tunnel closes the connection (ssh ends its ProxyCommand's input only when it is
done). Errors go to standard error.

It is meant as ssh's ProxyCommand, as Determined's "python -m
determined.cli.tunnel" is: "det shell show_ssh_command ID" prints an ssh
command line that uses it.`,
		Hidden:            true,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs(client.ShellKind),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			return runShellTunnel(ctx, args[0], c, g.con)
		}),
	}
}

// runShellTunnel connects the console's input and output to the SSH
// server of the shell id (or a unique prefix of it).
func runShellTunnel(ctx context.Context, id string, c bridgeClient, con *console) error {
	got, err := c.Get(ctx, client.ShellKind, id)
	if err != nil {
		return err
	}
	if api.Terminal(got.Task.State) {
		return fmt.Errorf("shell %s has ended", got.Task.ID)
	}
	conn, err := c.DialSSH(ctx, got.Task.ID)
	if err != nil {
		return fmt.Errorf("connect to the SSH server of shell %s: %w", got.Task.ID, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	err = pipeWebsocket(conn, con.In, con.Out)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// pipeWebsocket sends what in gives in binary messages on conn and writes
// the binary messages conn receives to out, until the peer closes conn.
// When in ends, it sends a close message and goes on receiving.
func pipeWebsocket(conn *websocket.Conn, in io.Reader, out io.Writer) error {
	received := make(chan error, 1)
	go func() { received <- receiveBinary(conn, out) }()
	sent := make(chan error, 1)
	go func() { sent <- sendBinary(conn, in) }()
	select {
	case err := <-received:
		return err
	case err := <-sent:
		if err != nil {
			conn.Close()
			<-received
			return err
		}
		return <-received
	}
}

// sendBinary sends what in gives in binary messages, then a close message
// once in ends.
func sendBinary(conn *websocket.Conn, in io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if werr := conn.WriteMessage(websocket.BinaryMessage, buf[:n]); werr != nil {
				return fmt.Errorf("send to the bridge: %w", werr)
			}
		}
		if errors.Is(err, io.EOF) {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			if err := conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWait)); err != nil {
				return fmt.Errorf("close the connection to the bridge: %w", err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
	}
}

// receiveBinary writes the binary messages conn receives to out (text
// messages are not SSH's and are dropped) until the peer closes conn; a
// normal close (or one without a status) is no error.
func receiveBinary(conn *websocket.Conn, out io.Writer) error {
	for {
		mt, data, err := conn.ReadMessage()
		if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseNoStatusReceived) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the connection to the shell's SSH server ended: %w", err)
		}
		if mt != websocket.BinaryMessage {
			continue
		}
		if _, err := out.Write(data); err != nil {
			return fmt.Errorf("write standard output: %w", err)
		}
	}
}
