// Package ids makes and reads the API's global ids: opaque strings that name
// the object's type and its storage id (Relay's Node ids). Clients must treat
// them as opaque.
package ids

import (
	"encoding/base64"
	"errors"
	"strings"
)

// Types of objects with global ids.
const (
	User         = "User"
	Conversation = "Conversation"
	Message      = "Message"
)

// ErrMalformed: the string is not a global id of the expected type.
var ErrMalformed = errors.New("ids: malformed id")

// Node is any object that has a global id. The GraphQL Node interface is
// bound to it; the concrete types are storage.User, storage.Conversation and
// storage.Message.
type Node interface{}

// Encode returns the global id of the object of type typ with storage id id.
func Encode(typ, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + id))
}

// Decode splits a global id into its type and storage id.
func Decode(global string) (typ, id string, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(global)
	if err != nil {
		return "", "", ErrMalformed
	}
	typ, id, ok := strings.Cut(string(raw), ":")
	if !ok || typ == "" || id == "" {
		return "", "", ErrMalformed
	}
	return typ, id, nil
}

// DecodeAs decodes a global id that must be of type typ.
func DecodeAs(typ, global string) (string, error) {
	t, id, err := Decode(global)
	if err != nil || t != typ {
		return "", ErrMalformed
	}
	return id, nil
}
