package job

import (
	"context"
	"errors"
)

// State is the external key/value store handed to stateful jobs. It is always outside the
// process (an embedded store locally, DynamoDB or Firestore in the cloud), so a stateful job
// answers the same wherever it runs.
//
// Writes are optimistic: Put succeeds only when expectedVersion matches the stored version
// (0 means "the key must not exist yet"), so two concurrent writers can never lose an update.
type State interface {
	// Get returns the value and its version; a missing key returns (nil, 0, nil).
	Get(ctx context.Context, key string) (value []byte, version int64, err error)
	// Put stores value if the current version equals expectedVersion and returns the new version.
	// On a mismatch it returns an error that wraps ErrVersionConflict.
	Put(ctx context.Context, key string, value []byte, expectedVersion int64) (newVersion int64, err error)
}

// ErrVersionConflict reports that a Put lost an optimistic-concurrency race: read again and retry.
var ErrVersionConflict = errors.New("state version conflict")
