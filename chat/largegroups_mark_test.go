package chat_test

import (
	"context"
	"testing"

	"messenger/chat"
)

// A group is marked streamed once it passes the threshold, by creation,
// by an add or by a join, and stays streamed when it shrinks.
func TestGroupsPastTheThresholdAreStreamedForGood(t *testing.T) {
	ctx := context.Background()
	d := newDomain(t, func(c *chat.Config) { c.LargeGroupThreshold = 3 })
	u := d.users(t, 6)
	streamed := func(conv string) bool {
		t.Helper()
		ok, err := d.svc.Streamed(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	small := d.group(t, u[0], u[1], u[2])
	if streamed(small) {
		t.Fatal("a group of 3 (the threshold) is streamed")
	}
	if _, err := d.svc.AddMembers(ctx, u[0], small, []string{u[3]}); err != nil {
		t.Fatal(err)
	}
	if !streamed(small) {
		t.Fatal("a group of 4 is not streamed")
	}
	if _, err := d.svc.RemoveMember(ctx, u[0], small, u[3]); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.RemoveMember(ctx, u[0], small, u[2]); err != nil {
		t.Fatal(err)
	}
	if !streamed(small) {
		t.Fatal("a streamed group that shrank is no longer streamed")
	}
	big := d.group(t, u[0], u[1], u[2], u[3], u[4])
	if !streamed(big) {
		t.Fatal("a group created with 5 members is not streamed")
	}
	if other := d.group(t, u[5], u[0]); streamed(other) {
		t.Fatal("a group of 2 is streamed")
	}
}
