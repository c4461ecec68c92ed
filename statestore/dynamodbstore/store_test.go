package dynamodbstore_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/serverless-blueprint/blueprint/internal/mototest"
	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/dynamodbstore"
	"github.com/serverless-blueprint/blueprint/statestore/storetest"
)

// staticCredentials keep the tests away from the developer's real AWS profile.
func staticCredentials(o *awsconfig.LoadOptions) error {
	o.Credentials = credentials.NewStaticCredentialsProvider("testing", "testing", "")
	return nil
}

// newStore creates a fresh table at endpoint and opens a store on it.
func newStore(t *testing.T, endpoint string, n *atomic.Int64) *dynamodbstore.Store {
	t.Helper()
	ctx := context.Background()
	loc := dynamodbstore.Location{Table: fmt.Sprintf("blueprint-state-%d", n.Add(1)), Region: "us-east-1", Endpoint: endpoint}
	client, err := loc.Client(ctx, staticCredentials)
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamodbstore.EnsureTable(ctx, client, loc.Table, map[string]string{"blueprint:managed": "true"}); err != nil {
		t.Fatal(err)
	}
	// Creating it again is not an error: two applies may race to create the table.
	if err := dynamodbstore.EnsureTable(ctx, client, loc.Table, nil); err != nil {
		t.Fatalf("second EnsureTable: %v", err)
	}
	return dynamodbstore.New(client, loc)
}

// TestContract runs the contract every state store passes, against DynamoDB as moto serves it;
// its NoLostUpdate case has 16 writers make 800 conditional increments of one key, retrying
// lost races, and checks the counter ends exact (about 40 s: moto serves a few hundred
// requests a second). TestConditionalWritesAtScale counts races instead of retrying them.
func TestContract(t *testing.T) {
	moto := mototest.Start(t)
	var n atomic.Int64
	endpoint := moto.Serialized(t) // the contract includes concurrent writers: see Serialized
	storetest.Run(t, func(t *testing.T) statestore.Store { return newStore(t, endpoint, &n) })
}

func TestParseURL(t *testing.T) {
	loc, err := dynamodbstore.ParseURL("dynamodb://jobs-state?region=eu-west-1&endpoint=http://127.0.0.1:5000")
	if err != nil || loc != (dynamodbstore.Location{Table: "jobs-state", Region: "eu-west-1", Endpoint: "http://127.0.0.1:5000"}) {
		t.Fatalf("ParseURL = %+v, %v", loc, err)
	}
	if again, err := dynamodbstore.ParseURL(loc.URL()); err != nil || again != loc {
		t.Fatalf("URL round trip: %q → %+v, %v", loc.URL(), again, err)
	}
	for _, bad := range []string{
		"dynamodb://jobs-state",              // no region
		"dynamodb://x?region=us-east-1",      // table name too short
		"dynamodb://a b?region=us-east-1",    // not a table name
		"dynamodb://jobs/x?region=us-east-1", // a path
		"sqlite:///tmp/x.db",
		"dynamodb://jobs-state?region=us-east-1&endpoint=ftp://x",
	} {
		if _, err := dynamodbstore.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}

// TestConditionalWritesAtScale: writers each make conditional increments of one key (read,
// then write expecting the version read; a lost race is counted, not retried) against moto.
// The counter must end exactly at the number of writes that succeeded: none lost, none
// applied twice, every refused one really refused. make test runs 16 × 100 (about 10 s);
// BLUEPRINT_SCALE=1 runs the 64 × 1,000, 128,000 requests that moto serves in about
// six minutes here (docs/performance.md has the run).
func TestConditionalWritesAtScale(t *testing.T) {
	writers, each := 16, 100
	if os.Getenv("BLUEPRINT_SCALE") == "1" {
		writers, each = 64, 1000
	}
	moto := mototest.Start(t)
	var n atomic.Int64
	st := newStore(t, moto.Serialized(t), &n).For("counter")
	storetest.ConditionalIncrementsAtScale(t, st, writers, each)
}
