package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"messenger/fault"
)

func TestSentinelsMatchEveryErrorOfTheirCodeOnly(t *testing.T) {
	cases := []struct {
		err      error
		sentinel error
		want     bool
	}{
		{fault.NotFoundf("message"), fault.ErrNotFound, true},
		{fmt.Errorf("chat: load: %w", fault.NotFoundf("message")), fault.ErrNotFound, true},
		{fault.NotFoundf("message"), fault.ErrForbidden, false},
		{fault.BadInput("body", "empty"), fault.ErrBadUserInput, true},
		{fmt.Errorf("cassandra: insert: %w: dial refused", fault.ErrUnavailable), fault.ErrUnavailable, true},
		{errors.New("plain"), fault.ErrUnavailable, false},
		// A specific error is not a sentinel for another specific error.
		{fault.NotFoundf("message"), fault.NotFoundf("message"), false},
	}
	for i, c := range cases {
		if got := errors.Is(c.err, c.sentinel); got != c.want {
			t.Errorf("case %d: errors.Is(%v, %v) = %v, want %v", i, c.err, c.sentinel, got, c.want)
		}
	}
}

func TestCodeAndFieldSurviveWrapping(t *testing.T) {
	err := fmt.Errorf("media: send: %w", fault.BadInput("attachmentIds", "too many"))
	if got := fault.CodeOf(err); got != fault.BadUserInput {
		t.Fatalf("CodeOf = %q", got)
	}
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Field != "attachmentIds" {
		t.Fatalf("field lost: %+v", fe)
	}
	if fault.CodeOf(errors.New("x")) != "" {
		t.Fatal("a plain error has no code")
	}
}
