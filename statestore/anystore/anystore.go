// Package anystore opens a state store of any kind Blueprint knows by its URL: sqlite:// files
// (statestore), dynamodb:// tables (statestore/dynamodbstore) and firestore:// collections
// (statestore/firestorestore). The agent opens stores this
// way; the wasm host, which reaches only files, uses statestore.Open.
package anystore

import (
	"context"

	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/dynamodbstore"
	"github.com/serverless-blueprint/blueprint/statestore/firestorestore"
)

// Open opens the store raw names. ctx bounds loading the cloud configuration of a DynamoDB
// or Firestore store, not the store's later use.
func Open(ctx context.Context, raw string) (statestore.Store, error) {
	if dynamodbstore.IsURL(raw) {
		return dynamodbstore.Open(ctx, raw)
	}
	if firestorestore.IsURL(raw) {
		return firestorestore.Open(ctx, raw)
	}
	return statestore.Open(raw)
}

// Opener returns Open as the function statestore.NewStores takes.
func Opener(ctx context.Context) func(raw string) (statestore.Store, error) {
	return func(raw string) (statestore.Store, error) { return Open(ctx, raw) }
}

// Check reports whether raw names a store Open can open, without opening it.
func Check(raw string) error {
	switch {
	case dynamodbstore.IsURL(raw):
		_, err := dynamodbstore.ParseURL(raw)
		return err
	case firestorestore.IsURL(raw):
		_, err := firestorestore.ParseURL(raw)
		return err
	}
	_, err := statestore.SQLitePath(raw)
	return err
}
