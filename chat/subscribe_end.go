package chat

import (
	"errors"

	"messenger/fault"
	"messenger/realtime"
)

// How a subscription of several keys ends (subscribe_streams.go): the first
// key to end ends the stream, and the others are released.

// abandon ends a stream that never reached its caller: nothing is told.
func (st *stream) abandon() {
	st.emu.Lock()
	st.closed = true
	st.emu.Unlock()
	st.release()
}

// endKey ends the whole stream when any key ends (but a stopped one).
func (st *stream) endKey(k *keySub, err error) {
	st.emu.Lock()
	if st.closed || k.stopped {
		st.emu.Unlock()
		return
	}
	st.closed = true
	switch {
	case errors.Is(err, realtime.ErrSlowConsumer):
		st.final = ErrSlowConsumer
	case errors.Is(err, realtime.ErrCursorExpired):
		st.final = &fault.Error{Code: fault.CursorExpired, Message: "events were lost while you were behind: resync with queries"}
	case err != nil:
		st.final = &fault.Error{Code: fault.Unavailable, Message: "the event stream is unavailable; resume from your last cursor"}
	}
	close(st.out)
	st.r.Closed()
	st.emu.Unlock()
	st.release() // the other keys end, and are ignored
	st.mu.Lock()
	defer st.mu.Unlock()
	st.ended = true
	if st.isOnline {
		st.goOffline()
	}
}

// release ends the reading of every key once the stream has closed: by
// its own context, when it has one; else each conversation stream's key
// by its own, while my own log, read in the caller's ctx, ends when that
// ctx does, or sooner, as keepsOffering says.
func (st *stream) release() {
	if st.cancel != nil {
		st.cancel()
		return
	}
	st.emu.Lock()
	for _, k := range st.keys {
		k.stop()
	}
	st.emu.Unlock()
}

// keepsOffering is Offer's answer for an event that arrives after its key
// was stopped or its stream closed (under st.emu): taken and dropped, but
// for my own log read in the caller's ctx (st.cancel == nil) after the
// stream closed, which nothing else can stop: refused, so that the log
// drops the subscription after its slow-consumer limit (its End then finds
// the stream closed) rather than feeding it until the caller's ctx ends.
func (st *stream) keepsOffering(k *keySub) bool {
	return !(st.closed && k == &st.own && st.cancel == nil)
}
