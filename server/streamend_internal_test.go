package server

import (
	"log/slog"
	"testing"

	"messenger/chat"
	"messenger/fault"
	"messenger/gqlws"
)

func TestFailedEventStreamsGetDocumentedOutcomes(t *testing.T) {
	end := streamEnd(slog.Default())
	if se := end(&fault.Error{Code: fault.CursorExpired, Message: "lost"}); len(se.Errors) != 1 || se.Errors[0].Extensions["code"] != "CURSOR_EXPIRED" || se.CloseCode != 0 {
		t.Errorf("cursor expired: %+v", se)
	}
	if se := end(chat.ErrSlowConsumer); se.CloseCode != gqlws.CloseTryAgainLater {
		t.Errorf("slow consumer: %+v", se)
	}
	if se := end(&fault.Error{Code: fault.Unavailable, Message: "down"}); se.CloseCode != gqlws.CloseTryAgainLater {
		t.Errorf("unavailable: %+v", se)
	}
	if se := end(errString("boom")); se.CloseCode != gqlws.CloseInternalServerError {
		t.Errorf("other: %+v", se)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
