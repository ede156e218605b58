package gqlws

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// RFC 6455 section 8.1: a text message that is not UTF-8 fails the
// connection with 1007, also when the bad sequence spans two fragments; a
// character split between fragments is fine.

func TestATextMessageThatIsNotUTF8IsClosedWith1007(t *testing.T) {
	bad := []byte(`{"type":"ping","payload":"caf` + "\xe9" + `"}`) // Latin-1 é
	for name, frames := range map[string][][]byte{
		"one frame": {clientFrame(true, opText, bad, false)},
		"sequence across fragments": {
			clientFrame(false, opText, []byte(`{"type":"ping","payload":"`+"\xe2\x82"), false),
			clientFrame(true, opContinuation, []byte("\x28\"}"), false), // E2 82 28: a broken euro sign
		},
		"truncated at the end": {
			clientFrame(false, opText, []byte(`{"type":"ping","payload":"x"}`), false),
			clientFrame(true, opContinuation, []byte("\xf0\x9f"), false),
		},
		"surrogate half": {clientFrame(true, opText, []byte(`{"type":"ping","payload":"`+"\xed\xa0\x80"+`"}`), false)},
	} {
		t.Run(name, func(t *testing.T) {
			both(t, func(t *testing.T, poll bool) {
				addr, tr := start(t, poll, Config{}, newExecutor(false, 0, nil))
				c := dial(t, addr, text(initMsg))
				c.next()
				c.write(frames...)
				if code, _ := c.closed(); code != closeInvalidData {
					t.Fatalf("closed with %d, want 1007", code)
				}
				if n := tr.Stats().Closes[closeInvalidData]; n != 1 {
					t.Fatalf("closes counted for 1007: %d", n)
				}
			})
		})
	}
}

func TestACharacterSplitBetweenFragmentsIsAccepted(t *testing.T) {
	both(t, func(t *testing.T, poll bool) {
		addr, _ := start(t, poll, Config{}, newExecutor(false, 0, nil))
		c := dial(t, addr, text(initMsg))
		c.next()
		msg := []byte(`{"type":"ping","payload":"€ 🙂"}`)
		at := len(`{"type":"ping","payload":"`) + 1    // inside the euro sign
		at2 := len(`{"type":"ping","payload":"€ `) + 2 // inside the emoji
		c.write(
			clientFrame(false, opText, msg[:at], false),
			clientFrame(false, opContinuation, msg[at:at2], false),
			clientFrame(true, opContinuation, msg[at2:], false),
		)
		if m := c.next(); m.Type != "pong" || string(m.Payload) != `"€ 🙂"` {
			t.Fatalf("want the pong echoing the payload, got %+v", m)
		}
	})
}

func TestACloseReasonThatIsNotUTF8IsAnsweredWith1007(t *testing.T) {
	both(t, func(t *testing.T, poll bool) {
		addr, _ := start(t, poll, Config{}, newExecutor(false, 0, nil))
		c := dial(t, addr, text(initMsg))
		c.next()
		c.write(clientFrame(true, opClose, []byte{0x03, 0xe8, 'b', 'y', 0xff}, false))
		if code, _ := c.closed(); code != closeInvalidData {
			t.Fatalf("answered with %d, want 1007", code)
		}
	})
}

func TestCloseReasonsQuotingTheClientStayUTF8(t *testing.T) {
	addr, _ := start(t, true, Config{}, newExecutor(false, 0, nil))
	c := dial(t, addr, text(initMsg))
	c.next()
	id := "a" + strings.Repeat("é", 40) // 81 bytes: cut at 64, the 32nd é would be split
	c.write(text(`{"id":"`+id+`","type":"subscribe","payload":{"query":"subscription { x }"}}`),
		text(`{"id":"`+id+`","type":"subscribe","payload":{"query":"subscription { x }"}}`))
	code, reason := c.closed()
	if code != CloseSubscriberExists || !utf8.ValidString(reason) || !strings.HasPrefix(reason, "Subscriber for aé") {
		t.Fatalf("closed with %d %q", code, reason)
	}
}
