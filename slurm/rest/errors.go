package rest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Error is a request slurmrestd answered with errors, or one that did not
// get an answer. It satisfies slurm.Said (Slurm's own words, for the
// bridge's messages) and tells slurm.ControllerTrouble whether the
// controller may not have been reached.
type Error struct {
	// Lead comes before Slurm's words, as the CLI's tools put it
	// ("Batch job submission failed").
	Lead string
	// Status is the HTTP status; 0 when no answer came.
	Status int
	// Messages are slurmrestd's errors[].error texts, or the connection
	// error.
	Messages []string
	// Numbers are their Slurm error numbers, where given.
	Numbers []int
	// Err is the connection error when no answer came.
	Err error
}

func (e *Error) Error() string { return "slurmrestd: " + e.Said() }

// Said is Slurm's words, after Lead.
func (e *Error) Said() string {
	said := strings.Join(e.Messages, "; ")
	if said == "" {
		said = fmt.Sprintf("HTTP status %d with no error text", e.Status)
	}
	if e.Lead != "" {
		return e.Lead + ": " + said
	}
	return said
}

func (e *Error) Unwrap() error { return e.Err }

// ControllerTrouble reports whether the request may not have reached
// slurmctld: no answer from slurmrestd, or a gateway-like status.
func (e *Error) ControllerTrouble() bool {
	return e.Status == 0 || e.Status == 502 || e.Status == 503 || e.Status == 504
}

// says reports whether any message contains s.
func (e *Error) says(s string) bool {
	for _, m := range e.Messages {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// apiError is one entry of a response's errors: 22.05 names the number
// error_number, error_code (the submit path) or errno (nodes).
type apiError struct {
	Error       string `json:"error"`
	Description string `json:"description"`
	ErrorNumber *int   `json:"error_number"`
	ErrorCode   *int   `json:"error_code"`
	Errno       *int   `json:"errno"`
}

// errorsOf reads the errors array of a response body, if it has one.
func errorsOf(body []byte) (msgs []string, nums []int) {
	var r struct {
		Errors []apiError `json:"errors"`
	}
	if json.Unmarshal(body, &r) != nil {
		return nil, nil
	}
	for _, e := range r.Errors {
		msg := e.Error
		if msg == "" {
			msg = e.Description
		}
		n := 0
		for _, p := range []*int{e.ErrorNumber, e.ErrorCode, e.Errno} {
			if p != nil {
				n = *p
				break
			}
		}
		if msg == "" && n == 0 {
			continue
		}
		if msg == "" {
			msg = fmt.Sprintf("Slurm error %d", n)
		}
		msgs, nums = append(msgs, msg), append(nums, n)
	}
	return msgs, nums
}
