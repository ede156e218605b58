package server

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"messenger/auth"
	"messenger/ratelimit"
)

// bucket is a rate limit that root fields draw from: each such field in an
// operation takes one token, so a request holding 30 logIn aliases takes
// 30 (or is refused whole, having run none).
type bucket int

const (
	bucketSend bucket = iota
	bucketEdit
	bucketReact
	bucketTyping
	bucketAuth
	numBuckets
)

// ratedFields maps each rate-limited root field to its bucket.
var ratedFields = map[string]bucket{
	"sendMessage":   bucketSend,
	"editMessage":   bucketEdit,
	"deleteMessage": bucketEdit,
	// Group changes reach every member as an event, like an edit.
	"createGroup":        bucketEdit,
	"addMembers":         bucketEdit,
	"removeMember":       bucketEdit,
	"leaveConversation":  bucketEdit,
	"renameConversation": bucketEdit,
	"setMemberRole":      bucketEdit,
	"addReaction":        bucketReact,
	"removeReaction":     bucketReact,
	"setTyping":          bucketTyping,
	"signUp":             bucketAuth,
	"logIn":              bucketAuth,
	// Invite codes are secrets too: guessing them costs the same tokens.
	"previewInvite": bucketAuth,
	"joinByInvite":  bucketAuth,
	// A forward is one send per target conversation (see walker.sends);
	// pins reach every member as an event, like an edit.
	"forwardMessage": bucketSend,
	"pinMessage":     bucketEdit,
	"unpinMessage":   bucketEdit,
}

// buckets describes each bucket: its key's prefix, whether it is per
// client IP (else per user; an anonymous caller counts per IP), the fields
// it covers (for messages) and its rule.
var buckets = [numBuckets]struct {
	name   string
	perIP  bool
	fields string
	rule   func(*Limits) ratelimit.Rule
}{
	bucketSend:   {"send", false, "sendMessage and forwardMessage", func(l *Limits) ratelimit.Rule { return l.Send }},
	bucketEdit:   {"edit", false, "editMessage, deleteMessage, pins and group changes", func(l *Limits) ratelimit.Rule { return l.Edit }},
	bucketReact:  {"react", false, "addReaction and removeReaction", func(l *Limits) ratelimit.Rule { return l.React }},
	bucketTyping: {"typing", false, "setTyping", func(l *Limits) ratelimit.Rule { return l.Typing }},
	bucketAuth:   {"auth", true, "signUp, logIn, previewInvite and joinByInvite", func(l *Limits) ratelimit.Rule { return l.Auth }},
}

// takeRates takes the operation's tokens: one per rated root field from
// its bucket, and one from the caller's expensive bucket when the
// operation costs more than ExpensiveCost. The first refusal ends it.
func (g guard) takeRates(ctx context.Context, m shape) *gqlerror.Error {
	for b, n := range m.rated {
		if n == 0 {
			continue
		}
		spec := buckets[b]
		if err := g.take(ctx, spec.name+":"+caller(ctx, spec.perIP), spec.rule(&g.limits), n, spec.fields); err != nil {
			return err
		}
	}
	if m.cost > g.limits.ExpensiveCost {
		return g.take(ctx, "expensive:"+caller(ctx, false), g.limits.Expensive, 1, "expensive operations")
	}
	return nil
}

// caller is who a bucket counts: the client's IP, or the signed-in user
// (the IP when anonymous).
func caller(ctx context.Context, perIP bool) string {
	if !perIP {
		if id, ok := auth.FromContext(ctx); ok {
			return "user:" + id.UserID
		}
	}
	return "ip:" + clientIP(ctx)
}

// take takes n tokens from the bucket key, all or none. An operation
// needing more tokens than the bucket holds can never run: it is refused
// without a retry time.
func (g guard) take(ctx context.Context, key string, r ratelimit.Rule, n int, what string) *gqlerror.Error {
	if n > r.Burst {
		return refusal(codeRateLimited, fmt.Sprintf("the operation holds %d %s; at most %d may run at once: split it", n, what, r.Burst))
	}
	ok, wait, err := g.limits.Limiter.AllowN(ctx, key, r, n)
	if err != nil {
		g.onLimiterErr(err)
		return nil // fail open: a broken limiter must not stop the API
	}
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	e := refusal(codeRateLimited, fmt.Sprintf("too many %s: retry in %d s", what, secs))
	e.Extensions["retryAfter"] = secs
	e.Extensions["retryAt"] = time.Now().Add(time.Duration(secs) * time.Second).UTC().Format(time.RFC3339)
	return e
}
