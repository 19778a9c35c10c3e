package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxBody bounds a response: GET /jobs/ returns every job of the cluster
// with ~100 fields each.
const maxBody = 256 << 20

// call sends one request as user and decodes a 2xx answer's JSON body
// into out (nil: ignore it). A non-2xx answer, or a 2xx one whose errors
// array is not empty, is an *Error with Slurm's messages (lead prefixes
// them); out is still filled from a 2xx one. Requests are never retried.
func (c *Client) call(ctx context.Context, method, path, user string, in, out any, lead string) error {
	tok, err := c.tokens.token(user, c.now())
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("slurmrestd request: %w", err)
	}
	req.Header.Set("X-SLURM-USER-NAME", user)
	req.Header.Set("X-SLURM-USER-TOKEN", tok)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		// Without it slurmrestd parses the body as URL-encoded.
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &Error{Lead: lead, Messages: []string{err.Error()}, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &Error{Lead: lead, Messages: []string{"reading the answer: " + err.Error()}, Err: err}
	}
	msgs, nums := errorsOf(data)
	ok := resp.StatusCode/100 == 2
	if ok && out != nil {
		if err := json.Unmarshal(data, out); err != nil && len(msgs) == 0 {
			return fmt.Errorf("slurmrestd %s %s: answer is not the expected JSON: %w", method, path, err)
		}
	}
	if ok && len(msgs) == 0 {
		return nil
	}
	if len(msgs) == 0 && resp.StatusCode == http.StatusNotFound {
		msgs = []string{"no such path " + path + " (is this slurmrestd's plugin for it loaded?)"}
	}
	return &Error{Lead: lead, Status: resp.StatusCode, Messages: msgs, Numbers: nums}
}
