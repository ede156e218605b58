package observe

import (
	"context"
	"time"

	"messenger/presence"
)

// Presence wraps a presence tracker (backend "presence").
func (o *Observer) Presence(t presence.Tracker) presence.Tracker {
	return observedPresence{Tracker: t, o: o}
}

type observedPresence struct {
	presence.Tracker
	o *Observer
}

var _ presence.Tracker = observedPresence{}

func (p observedPresence) Connect(ctx context.Context, userID string) (string, bool, error) {
	ctx, c := p.o.begin(ctx, "presence", "connect")
	h, first, err := p.Tracker.Connect(ctx, userID)
	c.end(err)
	return h, first, err
}

func (p observedPresence) Disconnect(ctx context.Context, userID, handle string, at time.Time) (bool, error) {
	ctx, c := p.o.begin(ctx, "presence", "disconnect")
	last, err := p.Tracker.Disconnect(ctx, userID, handle, at)
	c.end(err)
	return last, err
}

func (p observedPresence) State(ctx context.Context, userID string) (bool, *time.Time, error) {
	ctx, c := p.o.begin(ctx, "presence", "state")
	online, seen, err := p.Tracker.State(ctx, userID)
	c.end(err)
	return online, seen, err
}
