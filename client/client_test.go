package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/det-slurm/bridge/api"
)

// TestErrorText: an error answer's message is read from Determined's
// shape (message, else error.error), else the body is the message.
func TestErrorText(t *testing.T) {
	for body, want := range map[string]string{
		`{"code":5,"message":"no user bob","details":[],"error":{"code":404,"reason":"Not Found","error":"no user bob"}}`: "no user bob",
		`{"error":{"code":404,"reason":"Not Found","error":"inner only"}}`:                                                "inner only",
		`{"error":"flat error"}`:    "flat error",
		"plain text from a proxy\n": "plain text from a proxy",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(body))
		}))
		err := New(srv.URL, "").Do(context.Background(), http.MethodGet, "/x", nil, nil)
		srv.Close()
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Message != want {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(api.NewError(http.StatusUnauthorized, "invalid credentials"))
	}))
	defer srv.Close()
	if _, err := New(srv.URL, "").Login(context.Background(), "a", "b"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("a 401: %v", err)
	}
}

// TestUsersPages: Users follows the pagination to the end.
func TestUsersPages(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		end := min(off+2, len(all))
		out := api.UsersResponse{Pagination: api.Pagination{Offset: off, StartIndex: off, EndIndex: end, Total: len(all)}}
		for _, n := range all[off:end] {
			out.Users = append(out.Users, api.User{Username: n})
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()
	users, err := New(srv.URL, "").Users(context.Background(), false)
	if err != nil || len(users) != len(all) || users[4].Username != "e" {
		t.Fatalf("%v %+v", err, users)
	}
}
