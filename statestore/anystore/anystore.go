// Package anystore opens a state store of any kind Blueprint knows by its URL: sqlite:// files
// (statestore) and dynamodb:// tables (statestore/dynamodbstore). The agent opens stores this
// way; the wasm host, which reaches only files, uses statestore.Open.
package anystore

import (
	"context"

	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/dynamodbstore"
)

// Open opens the store raw names. ctx bounds loading the AWS configuration of a DynamoDB
// store, not the store's later use.
func Open(ctx context.Context, raw string) (statestore.Store, error) {
	if dynamodbstore.IsURL(raw) {
		return dynamodbstore.Open(ctx, raw)
	}
	return statestore.Open(raw)
}

// Opener returns Open as the function statestore.NewStores takes.
func Opener(ctx context.Context) func(raw string) (statestore.Store, error) {
	return func(raw string) (statestore.Store, error) { return Open(ctx, raw) }
}
