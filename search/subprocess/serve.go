package subprocess

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"strconv"
	"sync"

	"messenger/search"
)

// Serve is the child's side: it answers the parent on conn with idx until
// the parent closes its end (or exits: the kernel closes it), then returns.
// It does not close idx.
func Serve(conn net.Conn, idx search.Rebuilder) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &service{ctx: ctx, idx: idx, gens: map[string]search.Generation{}, iters: map[int64]*hideIter{}}
	srv := rpc.NewServer()
	if err := srv.RegisterName("Index", s); err != nil {
		return err
	}
	srv.ServeConn(conn) // returns at EOF
	return nil
}

// InheritedConn is the socket the parent passed to the child (file
// descriptor 3, the first of exec.Cmd.ExtraFiles).
func InheritedConn() (net.Conn, error) {
	f := os.NewFile(3, "search-socket")
	if f == nil {
		return nil, errors.New("search process: no socket on fd 3")
	}
	defer func() { _ = f.Close() }() // FileConn dups it
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("search process: fd 3 is not a socket: %w", err)
	}
	return c, nil
}

// service is the receiver net/rpc calls; each exported method is one call
// of the protocol.
type service struct {
	ctx context.Context // ends when the parent goes
	idx search.Rebuilder

	mu     sync.Mutex
	gens   map[string]search.Generation
	iters  map[int64]*hideIter
	nextID int64
}

// Ping answers once the index is open: the parent's first call.
func (s *service) Ping(_ struct{}, _ *struct{}) error { return nil }

func (s *service) Apply(a ApplyArgs, _ *struct{}) error {
	if a.Generation == "" {
		return encodeErr(s.idx.Apply(s.ctx, a.Batch))
	}
	g, err := s.gen(a.Generation)
	if err != nil {
		return err
	}
	return encodeErr(g.Apply(s.ctx, a.Batch))
}

func (s *service) Watermarks(ids []string, reply *map[string]int64) error {
	m, err := s.idx.Watermarks(s.ctx, ids)
	*reply = m
	return encodeErr(err)
}

func (s *service) WatermarkedConversations(a PageArgs, reply *[]string) error {
	ids, err := s.idx.WatermarkedConversations(s.ctx, a.AfterID, a.Limit)
	*reply = ids
	return encodeErr(err)
}

func (s *service) SyncedAt(_ struct{}, reply *SyncedAtReply) error {
	t, err := s.idx.SyncedAt(s.ctx)
	reply.At = t
	return encodeErr(err)
}

func (s *service) SearchMessages(q search.MessageQuery, reply *search.MessagePage) error {
	p, err := s.idx.SearchMessages(s.ctx, q)
	*reply = p
	return encodeErr(err)
}

func (s *service) SearchUsers(q search.UserQuery, reply *search.UserPage) error {
	p, err := s.idx.SearchUsers(s.ctx, q)
	*reply = p
	return encodeErr(err)
}

func (s *service) NewGeneration(_ struct{}, name *string) error {
	g, err := s.idx.NewGeneration(s.ctx)
	if err != nil {
		return encodeErr(err)
	}
	s.mu.Lock()
	s.gens[g.Name()] = g
	s.mu.Unlock()
	*name = g.Name()
	return nil
}

func (s *service) Promote(name string, _ *struct{}) error { return s.endGen(name, true) }

func (s *service) Abandon(name string, _ *struct{}) error { return s.endGen(name, false) }

func (s *service) gen(name string) (search.Generation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.gens[name]
	if !ok {
		return nil, fmt.Errorf("search process: no generation %q (the process restarted?)", name)
	}
	return g, nil
}

func (s *service) endGen(name string, promote bool) error {
	g, err := s.gen(name)
	if err != nil {
		return err
	}
	if promote {
		err = g.Promote(s.ctx)
	} else {
		err = g.Abandon(s.ctx)
	}
	if err == nil {
		s.mu.Lock()
		delete(s.gens, name)
		s.mu.Unlock()
	}
	return encodeErr(err)
}

// hideIter is one Hides iteration, run by its own goroutine and read a
// page at a time.
type hideIter struct {
	pages  chan []search.Hide
	cancel context.CancelFunc
	err    error // set before pages is closed
}

const hidesPerPage = 1000

func (s *service) HidesStart(_ struct{}, id *int64) error {
	ctx, cancel := context.WithCancel(s.ctx)
	it := &hideIter{pages: make(chan []search.Hide), cancel: cancel}
	s.mu.Lock()
	s.nextID++
	*id = s.nextID
	s.iters[*id] = it
	s.mu.Unlock()
	go func() {
		defer close(it.pages)
		var page []search.Hide
		send := func() error {
			select {
			case it.pages <- page:
				page = nil
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := s.idx.Hides(ctx, func(h search.Hide) error {
			if page = append(page, h); len(page) == hidesPerPage {
				return send()
			}
			return nil
		})
		if err == nil && len(page) > 0 {
			err = send()
		}
		it.err = err
	}()
	return nil
}

func (s *service) HidesNext(id int64, reply *HidesPage) error {
	s.mu.Lock()
	it, ok := s.iters[id]
	s.mu.Unlock()
	if !ok {
		return errors.New("search process: no such hides iteration " + strconv.FormatInt(id, 10))
	}
	page, more := <-it.pages
	if more {
		reply.Hides = page
		return nil
	}
	reply.Done = true
	_ = s.HidesEnd(id, nil)
	return encodeErr(it.err)
}

// HidesEnd stops an iteration (the parent's callback failed or its context
// ended); ending one that already finished is fine.
func (s *service) HidesEnd(id int64, _ *struct{}) error {
	s.mu.Lock()
	it, ok := s.iters[id]
	delete(s.iters, id)
	s.mu.Unlock()
	if ok {
		it.cancel()
	}
	return nil
}
