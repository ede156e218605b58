package chat_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"messenger/chat"
	"messenger/fault"
	"messenger/storage"
)

func TestForwardCopiesBodyAndFilesMarksTheOriginAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	d := newDomain(t, nil)
	f := newFiles()
	d.svc.UseAttachments(f)
	u := d.users(t, 3)
	alice, bob, carol := u[0], u[1], u[2]
	src := d.group(t, alice, bob)
	t1 := d.group(t, bob, carol)
	t2 := d.group(t, bob)
	carolSees := open(t, d.log, carol)

	orig, err := d.svc.Send(ctx, alice, src, "k1", "look at this", "up-1")
	if err != nil {
		t.Fatal(err)
	}
	copies, err := d.svc.Forward(ctx, bob, orig.ID, []string{t1, t2}, "fw-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(copies) != 2 || copies[0].ConversationID != t1 || copies[1].ConversationID != t2 {
		t.Fatalf("copies = %+v; want one in each target, in order", copies)
	}
	for _, c := range copies {
		if c.Body != orig.Body || c.SenderID != bob {
			t.Fatalf("copy %+v; want bob sending %q", c, orig.Body)
		}
		// The port is asked to share the original's files, not to claim uploads.
		if got := f.of(c.ID); !slices.Equal(got, []string{chat.ForwardedFiles(orig.ID)}) {
			t.Fatalf("copy's files: %v", got)
		}
	}
	marks, err := d.svc.ForwardMarks(ctx, copies)
	if err != nil || len(marks) != 2 || marks[copies[0].ID].SourceSenderID != alice || marks[copies[0].ID].SourceMessageID != orig.ID {
		t.Fatalf("forward marks = %+v, %v; want alice's original", marks, err)
	}
	if got := carolSees.messages(t, d.svc); len(got) != 1 || got[0].ID != copies[0].ID {
		t.Fatalf("carol got %+v; want the copy, live, once", got)
	}
	// A retry sends nothing new.
	again, err := d.svc.Forward(ctx, bob, orig.ID, []string{t1, t2}, "fw-1")
	if err != nil || again[0].ID != copies[0].ID || again[1].ID != copies[1].ID {
		t.Fatalf("retry = %+v, %v; want the same copies", again, err)
	}
	if got := carolSees.messages(t, d.svc); len(got) != 0 {
		t.Fatalf("the retry delivered %+v again", got)
	}
	// Forwarding a forward keeps the first sender as the origin.
	second, err := d.svc.Forward(ctx, carol, copies[0].ID, []string{d.group(t, carol)}, "fw-2")
	if err != nil {
		t.Fatal(err)
	}
	marks, _ = d.svc.ForwardMarks(ctx, second)
	if marks[second[0].ID].SourceSenderID != alice {
		t.Fatalf("a forwarded forward's origin = %+v; want alice", marks[second[0].ID])
	}
	// An ordinary message carries no mark.
	if marks, _ := d.svc.ForwardMarks(ctx, []storage.Message{orig}); len(marks) != 0 {
		t.Fatalf("an ordinary message has a forward mark: %+v", marks)
	}
}

func TestForwardRefusesBadInputAndSendsNothing(t *testing.T) {
	ctx := context.Background()
	d := newDomain(t, nil)
	u := d.users(t, 3)
	alice, bob, outsider := u[0], u[1], u[2]
	src := d.group(t, alice, bob)
	mine := d.group(t, bob)
	notMine := d.group(t, outsider)
	orig, err := d.svc.Send(ctx, alice, src, "k1", "hello")
	if err != nil {
		t.Fatal(err)
	}
	recalled, err := d.svc.Send(ctx, alice, src, "k2", "oops")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Delete(ctx, alice, recalled.ID, true); err != nil {
		t.Fatal(err)
	}
	six := []string{mine}
	for i := 0; i < chat.MaxForwardTargets; i++ {
		six = append(six, d.group(t, bob))
	}
	for _, tc := range []struct {
		name    string
		msg     string
		targets []string
		client  string
		want    fault.Code
	}{
		{"no targets", orig.ID, nil, "c", fault.BadUserInput},
		{"six targets", orig.ID, six, "c", fault.BadUserInput},
		{"a target twice", orig.ID, []string{mine, mine}, "c", fault.BadUserInput},
		{"an empty client id", orig.ID, []string{mine}, "", fault.BadUserInput},
		{"a recalled message", recalled.ID, []string{mine}, "c", fault.BadUserInput},
		{"an unknown message", src + ".99", []string{mine}, "c", fault.NotFound},
		{"a target I am not in", orig.ID, []string{mine, notMine}, "c", fault.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.svc.Forward(ctx, bob, tc.msg, tc.targets, tc.client)
			if code(err) != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
			for _, conv := range append(six, mine) {
				if p, _ := d.svc.History(ctx, bob, conv, chat.HistoryArgs{}); len(p.Messages) != 0 {
					t.Fatalf("a refused forward sent %d messages to %s", len(p.Messages), conv)
				}
			}
		})
	}
	// Someone who cannot see the message cannot forward it.
	if _, err := d.svc.Forward(ctx, outsider, orig.ID, []string{notMine}, "c"); code(err) != fault.NotFound {
		t.Fatalf("outsider forwards: %v", err)
	}
	if p, _ := d.svc.History(ctx, outsider, notMine, chat.HistoryArgs{}); len(p.Messages) != 0 {
		t.Fatal(fmt.Sprint("the outsider's forward sent ", len(p.Messages)))
	}
}

// A forward into a direct conversation whose peer blocked me is refused
// like a send, before any copy goes out, so the other targets get nothing.
func TestForwardToAPeerWhoBlockedMeSendsNothing(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	src, _ := e.chat.CreateDirect(ctx, alice, bob)
	toCarol, _ := e.chat.CreateDirect(ctx, bob, carol)
	group, err := e.chat.CreateGroup(ctx, bob, "mine", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.chat.Send(ctx, alice, src.ID, "c1", "pass it on")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.BlockUser(ctx, carol, bob); err != nil {
		t.Fatal(err)
	}
	_, err = e.chat.Forward(ctx, bob, m.ID, []string{group.ID, toCarol.ID}, "f1")
	if err == nil {
		t.Fatal("a forward to a peer who blocked me went through")
	}
	if p, _ := e.chat.History(ctx, bob, group.ID, chat.HistoryArgs{}); len(p.Messages) != 0 {
		t.Fatalf("the refused forward sent %d messages to the other target", len(p.Messages))
	}
}
