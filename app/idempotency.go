package app

import (
	"crypto/sha256"
	"encoding/hex"
)

// Idempotency identifies a retried request: the same Scope and Key with the
// same body gets the first reply; with another body, an error.
type Idempotency struct {
	Scope string
	Key   string
	Body  []byte
}

// Reply is a stored answer to an idempotent request: the answer's body and
// whether the request created something. The HTTP layer picks the status
// from the route and Created, so a replay answers as the first time.
type Reply struct {
	Body    []byte
	Created bool
}

// Hash identifies the body a key was first used with.
func (i *Idempotency) Hash() string {
	sum := sha256.Sum256(i.Body)
	return hex.EncodeToString(sum[:])
}
