package redislog

// The notice side of subscriptions: which subscriber of this instance a
// pub/sub notice wakes, and which listener connection carries it.

import (
	"context"
)

// register adds sb to its user's local subscribers, subscribing the user's
// channel if sb is the first; it returns a channel closed once notices flow.
func (l *Log) register(ctx context.Context, sb *sub) (<-chan struct{}, error) {
	l.mu.Lock()
	if u := l.locals[sb.chanID]; u != nil {
		u.subs[sb] = struct{}{}
		sb.user = u
		l.mu.Unlock()
		return u.live, nil
	}
	l.mu.Unlock()
	lis, err := sb.s.listenerFor(ctx, sb.chanID)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed() {
		return nil, errClosed
	}
	u := l.locals[sb.chanID]
	if u == nil {
		u = &localUser{channel: sb.chanID, lis: lis, subs: map[*sub]struct{}{}, live: make(chan struct{})}
		l.locals[sb.chanID] = u
		lis.add(sb.chanID)
	}
	u.subs[sb] = struct{}{}
	sb.user = u
	return u.live, nil
}

func (l *Log) unregister(sb *sub) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := sb.user
	delete(u.subs, sb)
	if len(u.subs) == 0 && l.locals[u.channel] == u {
		delete(l.locals, u.channel)
		u.lis.remove(u.channel)
	}
}

// deliver handles a notice received on channel.
func (l *Log) deliver(channel, payload string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.locals[channel]
	if u == nil || payload == "" {
		return
	}
	switch payload[0] {
	case 'n':
		for sb := range u.subs {
			poke(sb.wake)
		}
	case 's':
		ev, ok := parseSignal(payload)
		if !ok {
			return
		}
		for sb := range u.subs {
			select {
			case sb.signals <- ev:
			default: // a subscriber that is not keeping up loses signals
			}
		}
	}
}

// markLive records that lis confirmed its subscription to channel.
func (l *Log) markLive(channel string, lis *listener) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u := l.locals[channel]; u != nil && u.lis == lis && !u.isLive {
		u.isLive = true
		close(u.live)
	}
}

// markLost records that lis lost its connection: its users' subscribers may
// have missed notices, so they read now (and learn whether Redis is down).
func (l *Log) markLost(lis *listener) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, u := range l.locals {
		if u.lis != lis {
			continue
		}
		if u.isLive {
			u.isLive = false
			u.live = make(chan struct{})
		}
		for sb := range u.subs {
			poke(sb.wake)
		}
	}
}

// move hands channel from one listener to another (a cluster slot moved).
func (l *Log) move(channel string, from, to *listener) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.locals[channel]
	if u == nil || u.lis != from {
		return
	}
	from.remove(channel)
	u.lis = to
	if u.isLive {
		u.isLive = false
		u.live = make(chan struct{})
	}
	to.add(channel)
}
