package redislog

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// listener is this instance's one pub/sub connection to one Redis node,
// subscribed to the notice channels of the local users whose keys live
// there. It rebuilds the connection after any error (and resubscribes in
// its own way: sharded channels of different slots may not share one
// SSUBSCRIBE, which go-redis's own resubscribe would send).
type listener struct {
	s       *shard
	addr    string
	sharded bool

	mu    sync.Mutex
	node  *redis.Client
	want  map[string]bool // channels to hold
	dirty map[string]bool // channels whose (un)subscription is not sent yet
	ps    *redis.PubSub   // nil while reconnecting
	// ours counts the SUNSUBSCRIBEs we sent and whose confirmation is due:
	// any other sunsubscribe comes from the server (the slot moved).
	ours map[string]int

	kick     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
}

// subscribeChunk caps the channels of one SUBSCRIBE command.
const subscribeChunk = 500

// listenerFor returns the listener of the node that serves channel,
// starting it on first use.
func (s *shard) listenerFor(ctx context.Context, channel string) (*listener, error) {
	node := s.node
	if s.cc != nil {
		var err error
		if node, err = s.cc.MasterForKey(ctx, channel); err != nil {
			return nil, err
		}
	}
	addr := node.Options().Addr
	s.mu.Lock()
	defer s.mu.Unlock()
	if lis := s.listeners[addr]; lis != nil {
		return lis, nil
	}
	if s.log.closed() {
		return nil, errClosed
	}
	lis := &listener{
		s: s, addr: addr, sharded: s.cc != nil, node: node,
		want: map[string]bool{}, dirty: map[string]bool{}, ours: map[string]int{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	s.listeners[addr] = lis
	s.log.wg.Add(2)
	go func() {
		defer s.log.wg.Done()
		lis.run()
	}()
	go func() {
		defer s.log.wg.Done()
		lis.flushLoop()
	}()
	return lis, nil
}

func (ls *listener) add(channel string) {
	ls.mu.Lock()
	ls.want[channel] = true
	ls.dirty[channel] = true
	ls.mu.Unlock()
	poke(ls.kick)
}

func (ls *listener) remove(channel string) {
	ls.mu.Lock()
	delete(ls.want, channel)
	ls.dirty[channel] = true
	ls.mu.Unlock()
	poke(ls.kick)
}

func (ls *listener) close() {
	ls.stopOnce.Do(func() {
		close(ls.stop)
		ls.mu.Lock()
		ps := ls.ps
		ls.mu.Unlock()
		if ps != nil {
			_ = ps.Close()
		}
	})
}

func (ls *listener) stopped() bool {
	select {
	case <-ls.stop:
		return true
	default:
		return false
	}
}

// run keeps a pub/sub connection up: connect, subscribe every wanted
// channel, receive until an error, tell the subscribers, back off, again.
func (ls *listener) run() {
	backoff := 50 * time.Millisecond
	for !ls.stopped() {
		ls.mu.Lock()
		ps := ls.node.Subscribe(context.Background()) // no I/O yet
		ls.ps = ps
		clear(ls.ours)
		for ch := range ls.want {
			ls.dirty[ch] = true
		}
		ls.mu.Unlock()
		if ls.stopped() { // close ran before ps was visible to it
			_ = ps.Close()
			return
		}
		poke(ls.kick)
		healthy := ls.receive(ps)

		ls.mu.Lock()
		ls.ps = nil
		ls.mu.Unlock()
		_ = ps.Close()
		ls.s.log.markLost(ls)
		if healthy {
			backoff = 50 * time.Millisecond
		} else {
			backoff = min(2*backoff, time.Second)
		}
		select {
		case <-ls.stop:
			return
		case <-time.After(backoff):
		}
		if ls.sharded {
			ls.reroute()
		}
	}
}

// receive dispatches messages until the connection fails; an idle
// connection is probed with PING, so a dead node is noticed within about
// two Timeouts. It reports whether anything was received.
func (ls *listener) receive(ps *redis.PubSub) (healthy bool) {
	ctx := context.Background()
	hb := ls.s.log.cfg.Timeout
	pinged := false
	for !ls.stopped() {
		msg, err := ps.ReceiveTimeout(ctx, hb)
		if err != nil {
			var ne net.Error
			if !pinged && errors.As(err, &ne) && ne.Timeout() {
				if ps.Ping(ctx) != nil {
					return healthy
				}
				pinged = true
				continue
			}
			return healthy
		}
		pinged, healthy = false, true
		switch m := msg.(type) {
		case *redis.Message:
			ls.s.log.deliver(m.Channel, m.Payload)
		case *redis.Subscription:
			switch m.Kind {
			case "subscribe", "ssubscribe":
				ls.s.log.markLive(m.Channel, ls)
			case "sunsubscribe":
				ls.mu.Lock()
				mine := ls.ours[m.Channel] > 0
				if mine {
					ls.ours[m.Channel]--
					if ls.ours[m.Channel] == 0 {
						delete(ls.ours, m.Channel)
					}
				}
				wanted := ls.want[m.Channel]
				ls.mu.Unlock()
				if !mine && wanted { // the server dropped it: its slot moved
					return healthy
				}
			}
		}
	}
	return healthy
}

// flushLoop sends the pending (un)subscriptions on the current connection.
// A failure closes the connection; run then resubscribes everything.
func (ls *listener) flushLoop() {
	for {
		select {
		case <-ls.kick:
		case <-ls.stop:
			return
		}
		ls.mu.Lock()
		ps := ls.ps
		if ps == nil { // run marks everything dirty again on reconnect
			ls.mu.Unlock()
			continue
		}
		var sub, unsub []string
		for ch := range ls.dirty {
			if ls.want[ch] {
				sub = append(sub, ch)
			} else {
				unsub = append(unsub, ch)
			}
		}
		clear(ls.dirty)
		ls.mu.Unlock()
		if err := ls.apply(ps, sub, unsub); err != nil {
			_ = ps.Close()
		}
	}
}

func (ls *listener) apply(ps *redis.PubSub, sub, unsub []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), ls.s.log.cfg.Timeout)
	defer cancel()
	if ls.sharded { // one channel per command: they may be in different slots
		for _, ch := range sub {
			if err := ps.SSubscribe(ctx, ch); err != nil {
				return err
			}
		}
		for _, ch := range unsub {
			ls.mu.Lock()
			ls.ours[ch]++
			ls.mu.Unlock()
			if err := ps.SUnsubscribe(ctx, ch); err != nil {
				return err
			}
		}
		return nil
	}
	for len(sub) > 0 {
		n := min(len(sub), subscribeChunk)
		if err := ps.Subscribe(ctx, sub[:n]...); err != nil {
			return err
		}
		sub = sub[n:]
	}
	for len(unsub) > 0 { // never empty: UNSUBSCRIBE without channels drops all
		n := min(len(unsub), subscribeChunk)
		if err := ps.Unsubscribe(ctx, unsub[:n]...); err != nil {
			return err
		}
		unsub = unsub[n:]
	}
	return nil
}

// reroute moves the channels whose slot is now served by another node to
// that node's listener (cluster mode, after a connection failure or a
// server-side SUNSUBSCRIBE).
func (ls *listener) reroute() {
	cc := ls.s.cc
	ctx, cancel := context.WithTimeout(context.Background(), ls.s.log.cfg.Timeout)
	defer cancel()
	cc.ReloadState(ctx)
	ls.mu.Lock()
	chans := make([]string, 0, len(ls.want))
	for ch := range ls.want {
		chans = append(chans, ch)
	}
	ls.mu.Unlock()
	for _, ch := range chans {
		node, err := cc.MasterForKey(ctx, ch)
		if err != nil {
			return // the cluster is unreachable: keep them here and retry later
		}
		if node.Options().Addr == ls.addr {
			ls.mu.Lock()
			ls.node = node // the cluster client may have replaced it
			ls.mu.Unlock()
			continue
		}
		to, err := ls.s.listenerFor(ctx, ch)
		if err != nil {
			return
		}
		ls.s.log.move(ch, ls, to)
	}
}
