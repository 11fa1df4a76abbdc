package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestExitStatus(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		prints bool
	}{
		{"plain error", errors.New("boom"), 1, true},
		{"interrupted", fmt.Errorf("query canceled: %w", context.Canceled), 130, true},
		{"hunt hits", &huntsMatchedError{}, 1, false},
		{"hunt failure", &huntFailedError{err: errors.New("bad hunt")}, 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := exitStatus(c.err, &stderr); got != c.status {
				t.Errorf("status = %d, want %d", got, c.status)
			}
			if printed := stderr.Len() > 0; printed != c.prints {
				t.Errorf("printed %q, want printing %v", stderr.String(), c.prints)
			}
		})
	}
}
