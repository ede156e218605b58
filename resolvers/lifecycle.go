package resolvers

import (
	"messenger/fault"
	"messenger/lifecycle"
)

// lifecycle returns the account-lifecycle service, or UNAVAILABLE on a
// server assembled without one.
func (r *Resolver) lifecycle() (*lifecycle.Service, error) {
	if r.Lifecycle == nil {
		return nil, &fault.Error{Code: fault.Unavailable, Message: "account deletion and data export are not configured on this server"}
	}
	return r.Lifecycle, nil
}
