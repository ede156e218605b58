package gqlws

// ready is called by a pushed stream after each result it makes ready and
// after it ends.
func (o *op) ready() {
	o.pending.Add(1)
	o.kick()
}

// kick starts a goroutine to read the ready results, unless one runs or the
// operation is not armed yet (run kicks once it is).
func (o *op) kick() {
	if o.armed.Load() && o.pending.Load() > 0 && o.running.CompareAndSwap(false, true) {
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
		for o.pending.Load() > 0 {
			o.pending.Add(-1)
			resp := o.responses(o.rctx)
			if resp == nil { // the stream ended (or the operation was stopped)
				c.endStream(o)
				c.done(o, nil)
				return // running stays set: nothing reads again
			}
			o.taken()
			if !c.next(o, resp) {
				c.done(o, nil)
				return
			}
		}
		o.running.Store(false)
		// A result made ready after the loop's last check, whose kick saw
		// running still set, is read here.
		if o.pending.Load() == 0 || !o.running.CompareAndSwap(false, true) {
			return
		}
	}
}
