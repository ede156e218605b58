package gqlws

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"unique"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// op is one running operation.
type op struct {
	id      string
	prefix  []byte // `{"id":"<id>","type":"`
	ctx     context.Context
	cancel  context.CancelFunc
	stopped bool // the client completed it: send nothing more (under wmu)

	// A pushed subscription (push.go) has no goroutine while it waits:
	// its stream says when a result is ready.
	c         *conn
	doc       unique.Handle[string]   // operation name and document: the render cache's scope
	query     unique.Handle[string]   // keeps the shared document (gqlgen holds its Value) interned
	stream    Stream                  // set by Push.Start during dispatch; nil: not pushed
	responses graphql.ResponseHandler // set before armed
	rctx      context.Context         // the context responses run in
	armed     atomic.Bool             // responses is set: results may be read
	running   atomic.Bool             // a goroutine is reading results
	qmu       sync.Mutex
	queue     []readied // results the stream has said are ready, in order
	head      int
}

// run executes one operation and reports its results on the socket.
func (c *conn) run(o *op, params *graphql.RawParams) {
	streaming := false
	defer func() {
		if !streaming {
			c.done(o, recover())
		}
	}()
	ctx := graphql.StartOperationTrace(o.ctx)
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		c.finishing(o)
		c.sendErrors(o, resp.Errors)
		return
	}
	subscription := rc.Operation != nil && rc.Operation.Operation == ast.Subscription
	if subscription {
		// While the subscription is dispatched, its resolver may find it
		// by its OperationContext (Transport.Push).
		c.t.dispatching.Store(rc, o)
		defer c.t.dispatching.Delete(rc)
	}
	responses, ctx := c.exec.DispatchOperation(ctx, rc)
	if subscription {
		streaming = true
		if o.stream != nil {
			// The resolver started a pushed stream (while
			// DispatchOperation ran it, on this goroutine): results are
			// read as the stream says they are ready.
			o.responses, o.rctx = responses, ctx
			o.armed.Store(true)
			o.kick()
			return
		}
		// A subscription waits for events for hours: it does so on a
		// fresh goroutine, whose stack has not grown through parsing and
		// validation (a goroutine's stack shrinks only slowly, over
		// garbage collections).
		go func() {
			defer func() { c.done(o, recover()) }()
			c.results(o, ctx, responses)
		}()
		return
	}
	c.results(o, ctx, responses)
}

// finishing takes o out of the socket's operations before its last message
// (complete or error) is queued: a client may reuse the id as soon as it
// reads that message (graphql-ws), and its subscribe must not find the
// finished operation still listed (4409). done does the rest.
func (c *conn) finishing(o *op) {
	c.mu.Lock()
	c.takeOp(o.id, o)
	c.mu.Unlock()
}

// done ends an operation's bookkeeping; r is what its goroutine recovered.
func (c *conn) done(o *op, r any) {
	if r != nil {
		c.t.cfg.Logger.Error("websocket operation panicked", "panic", fmt.Sprint(r))
		c.close(CloseInternalServerError, "Internal server error")
	}
	c.mu.Lock()
	c.takeOp(o.id, o)
	c.mu.Unlock()
	o.cancel()
	c.t.nOps.Add(-1)
}

// results sends an operation's results, then complete, or what its
// stream's end calls for.
func (c *conn) results(o *op, ctx context.Context, responses graphql.ResponseHandler) {
	for {
		resp := responses(ctx)
		if resp == nil {
			break
		}
		if !c.next(o, resp) {
			return
		}
	}
	c.endStream(o)
}

// endStream sends what the end of an operation's results calls for:
// complete, or what its stream's failure calls for.
func (c *conn) endStream(o *op) {
	c.finishing(o)
	if o.stream != nil && o.ctx.Err() == nil {
		if err := o.stream.Err(); err != nil {
			se := c.t.cfg.OnStreamEnd(err)
			if len(se.Errors) > 0 {
				c.sendErrors(o, se.Errors)
				return
			}
			c.close(se.CloseCode, se.Reason)
			return
		}
	}
	c.send(o, o.prefix, completeMsg)
}

// next sends one result. The common result, data alone, is framed as it
// is (gqlgen wrote it as JSON, so encoding/json's validation and
// compaction of it would be wasted); anything else is encoded as a whole.
func (c *conn) next(o *op, resp *graphql.Response) bool {
	if dataOnly(resp) {
		data := resp.Data
		if len(data) == 0 {
			data = jsonNull
		}
		c.sendResult(o, o.prefix, nextData, data, closeBraces)
	} else {
		b, err := json.Marshal(resp)
		if err != nil {
			c.t.cfg.Logger.Error("websocket: encoding a response", "err", err)
			c.close(CloseInternalServerError, "Internal server error")
			return false
		}
		c.sendResult(o, o.prefix, nextPayload, b, closeBrace)
	}
	c.t.nMsgs.Add(1)
	return true
}

func (c *conn) sendErrors(o *op, errs gqlerror.List) {
	b, err := json.Marshal(errs)
	if err != nil {
		b = []byte(`[{"message":"internal error","extensions":{"code":"INTERNAL"}}]`)
	}
	c.send(o, o.prefix, errorPayload, b, closeBrace)
}
