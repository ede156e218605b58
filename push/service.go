package push

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"messenger/storage"
)

// Store is the durable data push reads: devices and settings, and the
// messages, conversations, members and users a notification is about.
// storage.Store satisfies it.
type Store interface {
	storage.Push
	Messages(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.Message, error)
	Conversations(ctx context.Context, ids []string) (map[string]storage.Conversation, error)
	Members(ctx context.Context, conversationID, afterUserID string, limit int) ([]storage.Member, error)
	Member(ctx context.Context, conversationID, userID string) (storage.Member, error)
	MemberIDs(ctx context.Context, conversationID string) ([]string, error)
	Users(ctx context.Context, ids []string) (map[string]storage.User, error)
}

// Presence tells whether a user has a live subscription now (chat.Service
// satisfies it). When it cannot tell, it says offline: a push too many
// beats a message missed.
type Presence interface {
	Presence(ctx context.Context, userID string) (online bool, lastSeen *time.Time)
}

// Unread gives the badge: a user's total unread count (chat.Service
// satisfies it).
type Unread interface {
	TotalUnread(ctx context.Context, userID string) (int, error)
}

// Blocks tells whether a has blocked b (the privacy rules); a blocked
// sender never notifies.
type Blocks interface {
	Blocked(ctx context.Context, a, b string) (bool, error)
}

// Config configures a Service. Zero values are the documented defaults.
type Config struct {
	// Store holds devices, settings and messages. Required.
	Store Store
	// Queue carries the work durably. Required.
	Queue Queue
	// Providers deliver, one per platform; none: nothing is sent (devices
	// still register) and New logs that push is off.
	Providers []Provider
	// Presence: default, every user is offline.
	Presence Presence
	// Unread: default, badge 0.
	Unread Unread
	// Blocks: default, nobody is blocked.
	Blocks Blocks
	// Mentions reports whether m mentions userID (chat.MentionsUser).
	// Default: nothing mentions anyone, so MENTIONS behaves like NONE.
	Mentions func(m storage.Message, userID string) bool
	// SessionOf returns the caller's session id from a request context
	// (default: none; devices are then not bound to a session).
	SessionOf func(ctx context.Context) string
	// Events tells a user's devices that their settings changed
	// (chat.Service; default: not announced).
	Events Publisher
	// Workers bounds the jobs handled at once (default 64: sends wait on
	// the network, not the CPU).
	Workers int
	// MaxAttempts bounds the sends of one notification (default 5); then
	// it is dropped and counted.
	MaxAttempts int
	// Backoff is the first retry's base delay, doubled each attempt, with
	// full jitter, capped at MaxBackoff (defaults 1 s and 5 min). A
	// provider's Retry-After is honoured when longer.
	Backoff, MaxBackoff time.Duration
	// SendTimeout bounds one provider call (default 15 s).
	SendTimeout time.Duration
	// MaxDevices caps a user's devices (default 25); registering one more
	// replaces the least recently registered.
	MaxDevices int
	// Metrics receives counts (default: a private, unregistered set).
	Metrics *Metrics
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives operational messages (default slog.Default()).
	Logger *slog.Logger
}

// Service registers devices, keeps notification settings, and runs the
// delivery pipeline. It implements chat.Notifier.
type Service struct {
	cfg       Config
	store     Store
	queue     Queue
	providers map[storage.Platform]Provider
	metrics   *Metrics

	stop    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

// New returns a Service; Start runs its workers.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Queue == nil {
		return nil, errors.New("push: Store and Queue are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 15 * time.Second
	}
	if cfg.MaxDevices <= 0 {
		cfg.MaxDevices = 25
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, store: cfg.Store, queue: cfg.Queue, providers: map[storage.Platform]Provider{},
		metrics: cfg.Metrics, stop: make(chan struct{})}
	for _, p := range cfg.Providers {
		s.providers[p.Platform()] = p
	}
	if len(s.providers) == 0 {
		cfg.Logger.Warn("push is off: no APNs, FCM or VAPID credentials configured; devices register but nothing is sent")
	} else {
		var on []string
		for pl := range s.providers {
			on = append(on, string(pl))
		}
		cfg.Logger.Info("push is on", "providers", on)
	}
	cfg.Metrics.depth = cfg.Queue.Depth
	return s, nil
}

// MessageCreated implements chat.Notifier: it enqueues the decision about
// who hears of m, and returns once that is durable. Calling it twice for
// one message sends nothing twice (deliveries are marked sent). A message
// none of whose recipients has a registered device (most 1:1 messages
// between users on the web) writes no job at all: see anyRecipientDevice.
func (s *Service) MessageCreated(ctx context.Context, m storage.Message) error {
	if any, err := s.anyRecipientDevice(ctx, m); err == nil && !any {
		s.cfg.Metrics.noDevice()
		return nil
	}
	return s.enqueueCreated(ctx, m)
}

// enqueueCreated writes the job that expands a new message into deliveries.
func (s *Service) enqueueCreated(ctx context.Context, m storage.Message) error {
	return s.queue.Enqueue(ctx, Job{Kind: KindMessage, ConversationID: m.ConversationID, Seq: m.Seq, SentAt: m.SentAt})
}

// MessageRecalled implements chat.Notifier: notifications of m not yet
// sent are withdrawn (a delivery re-reads the message), and those sent
// are replaced, under the same collapse id, by one saying it was deleted.
func (s *Service) MessageRecalled(ctx context.Context, m storage.Message) error {
	return s.queue.Enqueue(ctx, Job{Kind: KindRecall, ConversationID: m.ConversationID, Seq: m.Seq, SentAt: m.SentAt})
}

// Start runs the workers until Close.
func (s *Service) Start() {
	s.stopped.Add(1)
	go func() {
		defer s.stopped.Done()
		s.run()
	}()
}

// Close stops claiming work and waits for the jobs in hand (each bounded
// by SendTimeout). Jobs not finished are redelivered by the queue.
func (s *Service) Close() {
	s.once.Do(func() { close(s.stop) })
	s.stopped.Wait()
}

// run claims jobs while workers are free and hands each to a goroutine.
func (s *Service) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	slots := make(chan struct{}, s.cfg.Workers)
	var busy sync.WaitGroup
	defer busy.Wait()
	for ctx.Err() == nil {
		slots <- struct{}{} // at least one worker free
		free := 1
	fill:
		for free < cap(slots) {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break fill
			}
		}
		jobs, err := s.queue.Claim(ctx, free, time.Second)
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("push: claim failed", "err", err)
			time.Sleep(200 * time.Millisecond)
		}
		for i := len(jobs); i < free; i++ {
			<-slots // return the slots not used
		}
		for _, l := range jobs {
			busy.Add(1)
			go func() {
				defer func() { <-slots; busy.Done() }()
				s.handle(context.WithoutCancel(ctx), l)
			}()
		}
	}
}

// handle runs one job and settles it in the queue.
func (s *Service) handle(ctx context.Context, l Leased) {
	var err error
	switch l.Job.Kind {
	case KindMessage, KindRecall:
		err = s.expand(ctx, l.Job)
	case KindDelivery:
		s.deliver(ctx, l)
		return
	}
	if err != nil {
		s.retry(ctx, l, "expand", "", 0, err)
		return
	}
	if err := s.queue.Ack(ctx, l); err != nil {
		s.cfg.Logger.Warn("push: ack failed; the job will run again", "err", err)
	}
}
