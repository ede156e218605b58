package observe

import (
	"context"

	"messenger/realtime"
)

// Log wraps an event log: appends, signals and subscription starts are
// timed (backend "event_log"), and appended events counted by type.
func (o *Observer) Log(l realtime.Log) realtime.Log { return observedLog{Log: l, o: o} }

type observedLog struct {
	realtime.Log
	o *Observer
}

var _ realtime.Log = observedLog{}

func (l observedLog) Append(ctx context.Context, userIDs []string, e realtime.Event) error {
	ctx, c := l.o.begin(ctx, "event_log", "append")
	err := l.Log.Append(ctx, userIDs, e)
	c.end(err)
	if err == nil {
		l.o.appended.WithLabelValues(eventLabel(e.Type)).Add(float64(len(userIDs)))
	}
	return err
}

func (l observedLog) AppendAt(ctx context.Context, userID string, e realtime.Event) (string, error) {
	ctx, c := l.o.begin(ctx, "event_log", "append")
	cur, err := l.Log.AppendAt(ctx, userID, e)
	c.end(err)
	if err == nil {
		l.o.appended.WithLabelValues(eventLabel(e.Type)).Inc()
	}
	return cur, err
}

func (l observedLog) Signal(ctx context.Context, userIDs []string, e realtime.Event) error {
	ctx, c := l.o.begin(ctx, "event_log", "signal")
	err := l.Log.Signal(ctx, userIDs, e)
	c.end(err)
	return err
}

func (l observedLog) Subscribe(ctx context.Context, userID, after string, sink realtime.Sink) (func(), error) {
	// The stream outlives the span: it keeps the caller's ctx.
	_, c := l.o.begin(ctx, "event_log", "subscribe")
	resume, err := l.Log.Subscribe(ctx, userID, after, sink)
	c.end(err)
	return resume, err
}

// eventLabel bounds the type label: event types are names the code
// chose, but a label must never grow with data.
func eventLabel(t string) string {
	if t == "" || len(t) > 40 {
		return "other"
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "other"
		}
	}
	return t
}
