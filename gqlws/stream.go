package gqlws

import "github.com/99designs/gqlgen/graphql"

// readied is one result a pushed stream has made ready (or its end).
type readied struct {
	key   any // a shared rendering's key; nil: none
	patch string
}

// ready queues one result a pushed stream made ready (or its end).
func (o *op) ready(key any, patch string) {
	o.qmu.Lock()
	o.queue = append(o.queue, readied{key, patch})
	o.qmu.Unlock()
	o.kick()
}

// pop takes the oldest readied result.
func (o *op) pop() (readied, bool) {
	o.qmu.Lock()
	defer o.qmu.Unlock()
	if o.head == len(o.queue) {
		return readied{}, false
	}
	r := o.queue[o.head]
	o.queue[o.head] = readied{}
	o.head++
	if o.head == len(o.queue) { // keep the array: the next result reuses it
		o.queue, o.head = o.queue[:0], 0
	}
	return r, true
}

func (o *op) queued() bool {
	o.qmu.Lock()
	defer o.qmu.Unlock()
	return o.head < len(o.queue)
}

// kick starts a goroutine to read the ready results, unless one runs or the
// operation is not armed yet (run kicks once it is).
func (o *op) kick() {
	if o.armed.Load() && o.queued() && o.running.CompareAndSwap(false, true) {
		go o.c.drain(o)
	}
}

// drain sends the results the stream has made ready, then returns: an idle
// subscription keeps no goroutine. Only one drain runs per operation.
func (c *conn) drain(o *op) {
	defer func() {
		if r := recover(); r != nil {
			c.done(o, r)
		}
	}()
	for {
		r, ok := o.pop()
		if !ok {
			o.running.Store(false)
			// A result made ready after the last pop, whose kick saw
			// running still set, is read here.
			if !o.queued() || !o.running.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		var kept *rendering
		if r.key != nil {
			k, mine := c.t.renders.lookup(o.doc.Value(), r.key)
			if !mine {
				<-k.done
				if k.ok {
					c.reuse(o, k, r)
					continue
				}
			} else {
				kept = k
			}
		}
		if !c.execute(o, kept, r.patch) {
			return
		}
	}
}

// reuse sends a kept rendering, patched, in place of the stream's next
// value, which it takes off the channel unexecuted.
func (c *conn) reuse(o *op, k *rendering, r readied) {
	v := o.stream.Skip()
	if f := c.t.cfg.OnReuse; f != nil {
		f(o.rctx, v)
	}
	c.sendResult(o, o.prefix, nextData, k.data[:k.at], []byte(r.patch), k.data[k.at+k.n:], closeBraces)
	c.t.nMsgs.Add(1)
	c.t.nReused.Add(1)
}

// execute executes the operation for the stream's next value and sends the
// result, keeping it in kept (if not nil) for the other subscribers. It
// reports whether the operation goes on.
func (c *conn) execute(o *op, kept *rendering, patch string) bool {
	// kept is settled before the result is written (a slow peer must not
	// hold up the others), and also if execution panics.
	settled := kept == nil
	settle := func(data []byte) {
		if !settled {
			settled = true
			kept.settle(data, patch)
		}
	}
	defer settle(nil)
	resp := o.responses(o.rctx)
	if resp == nil { // the stream ended (or the operation was stopped)
		settle(nil)
		c.endStream(o)
		c.done(o, nil)
		return false // running stays set: nothing reads again
	}
	o.stream.Taken()
	if dataOnly(resp) && len(resp.Data) > 0 {
		settle(resp.Data)
	} else {
		settle(nil)
	}
	if !c.next(o, resp) {
		c.done(o, nil)
		return false
	}
	return true
}

// dataOnly reports whether resp is data alone: the common result, which
// next frames as it is and a kept rendering may hold.
func dataOnly(resp *graphql.Response) bool {
	return len(resp.Errors) == 0 && resp.Label == "" && resp.Path == nil && resp.HasNext == nil && len(resp.Extensions) == 0
}
