package media

import "messenger/sniff"

// Kind is what an upload may be used for, decided from its bytes by
// package sniff.
type Kind = sniff.Kind

// Kinds of accepted content.
const (
	Image    = sniff.Image    // attachable; shown inline
	Document = sniff.Document // attachable; served as a download
	Video    = sniff.Video    // stories, and messages up to MaxMessageVideoDuration
	Voice    = sniff.Voice    // voice notes: one per message
)
