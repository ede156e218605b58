package chat

import "messenger/fault"

// The domain's refusals are the shared vocabulary's (package fault); these
// helpers keep the call sites short.

func notFound(what string) error { return fault.NotFoundf(what) }

func badInput(field, msg string) error { return fault.BadInput(field, msg) }

func forbidden(msg string) error { return fault.Forbid(msg) }
