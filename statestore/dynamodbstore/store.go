// Package dynamodbstore keeps job.State in an Amazon DynamoDB table, for stateful jobs that run
// on AWS Lambda and on the VM alike: every place a job runs reads and writes the same items.
//
// The store URL is dynamodb://TABLE?region=REGION, with &endpoint=URL to talk to something
// other than AWS (moto in the tests). Credentials come from the AWS SDK's default chain
// (environment, shared config and profile, SSO, instance or task role).
//
// One item per job and key: partition key "k" = "<job>/<key>" (job names cannot hold "/"),
// the value in "v" (binary) and the version in "ver" (number). A write is a conditional
// PutItem (create: the item must not exist) or UpdateItem (ver must equal the expected
// version), so two writers never lose an update; reads are strongly consistent, so a reader
// never sees a version older than the last write it could know of.
package dynamodbstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/statestore"
)

// Scheme is the URL scheme of DynamoDB stores.
const Scheme = "dynamodb"

// Attribute names of an item.
const (
	attrKey     = "k"
	attrValue   = "v"
	attrVersion = "ver"
)

// Location is what a dynamodb:// URL names.
type Location struct {
	Table    string
	Region   string
	Endpoint string // "" = AWS's endpoint for the region
}

// ParseURL reads dynamodb://TABLE?region=REGION[&endpoint=URL], or says what to write.
func ParseURL(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != Scheme {
		return Location{}, fmt.Errorf("state store %q: write dynamodb://TABLE?region=REGION", raw)
	}
	loc := Location{Table: u.Host, Region: u.Query().Get("region"), Endpoint: u.Query().Get("endpoint")}
	if u.Path != "" && u.Path != "/" {
		return Location{}, fmt.Errorf("state store %q: a table name has no path (%q); write dynamodb://TABLE?region=REGION", raw, u.Path)
	}
	if err := validTable(loc.Table); err != nil {
		return Location{}, fmt.Errorf("state store %q: %w", raw, err)
	}
	if loc.Region == "" {
		return Location{}, fmt.Errorf("state store %q: say which region holds the table: dynamodb://%s?region=us-east-1", raw, loc.Table)
	}
	if loc.Endpoint != "" {
		if e, err := url.Parse(loc.Endpoint); err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return Location{}, fmt.Errorf("state store %q: endpoint %q is not an http(s) URL", raw, loc.Endpoint)
		}
	}
	return loc, nil
}

// URL renders the location as a store URL.
func (l Location) URL() string {
	q := url.Values{"region": {l.Region}}
	if l.Endpoint != "" {
		q.Set("endpoint", l.Endpoint)
	}
	return Scheme + "://" + l.Table + "?" + q.Encode()
}

// validTable applies DynamoDB's table-name rules: 3 to 255 of [A-Za-z0-9_.-].
func validTable(name string) error {
	if len(name) < 3 || len(name) > 255 {
		return fmt.Errorf("table name %q must be 3 to 255 characters", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return fmt.Errorf("table name %q may hold only letters, digits, '_', '-' and '.'", name)
		}
	}
	return nil
}

// Client returns a DynamoDB client for the location, with credentials from the default chain.
func (l Location) Client(ctx context.Context, optFns ...func(*awsconfig.LoadOptions) error) (*dynamodb.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, append([]func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(l.Region)}, optFns...)...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration for the state store: %w", err)
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if l.Endpoint != "" {
			o.BaseEndpoint = aws.String(l.Endpoint)
		}
	}), nil
}

// Store is a DynamoDB table holding the state of many jobs.
type Store struct {
	client *dynamodb.Client
	loc    Location
}

var _ statestore.Store = (*Store)(nil)

// Open opens the store a dynamodb:// URL names. The table must exist (EnsureTable creates it).
func Open(ctx context.Context, raw string) (*Store, error) {
	loc, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	client, err := loc.Client(ctx)
	if err != nil {
		return nil, err
	}
	return New(client, loc), nil
}

// New wraps a client; loc names the table (and the URL the store reports).
func New(client *dynamodb.Client, loc Location) *Store {
	return &Store{client: client, loc: loc}
}

func (s *Store) URL() string  { return s.loc.URL() }
func (s *Store) Close() error { return nil }

// For returns one job's state: its keys live under "<job>/".
func (s *Store) For(jobName string) job.State {
	return &jobState{s: s, prefix: jobName + "/"}
}

type jobState struct {
	s      *Store
	prefix string
}

func (j *jobState) item(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrKey: &types.AttributeValueMemberS{Value: j.prefix + key}}
}

func (j *jobState) Get(ctx context.Context, key string) ([]byte, int64, error) {
	if err := statestore.CheckKey(key); err != nil {
		return nil, 0, err
	}
	out, err := j.s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(j.s.loc.Table),
		Key:            j.item(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, 0, j.s.wrap("reading", key, err)
	}
	if out.Item == nil {
		return nil, 0, nil
	}
	ver, err := version(out.Item)
	if err != nil {
		return nil, 0, fmt.Errorf("state key %q in %s: %w", key, j.s.loc.Table, err)
	}
	value := []byte{} // an empty value exists, unlike a missing key
	if b, ok := out.Item[attrValue].(*types.AttributeValueMemberB); ok && len(b.Value) > 0 {
		value = b.Value
	}
	return value, ver, nil
}

func (j *jobState) Put(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	if err := statestore.CheckKey(key); err != nil {
		return 0, err
	}
	if len(value) > statestore.MaxValueBytes {
		return 0, fmt.Errorf("state key %q: value of %d bytes is over the %d-byte limit", key, len(value), statestore.MaxValueBytes)
	}
	if expected < 0 {
		return 0, fmt.Errorf("state key %q: expected version %d is negative", key, expected)
	}
	next := expected + 1
	var err error
	if expected == 0 {
		item := j.item(key)
		item[attrValue] = &types.AttributeValueMemberB{Value: nonNil(value)}
		item[attrVersion] = &types.AttributeValueMemberN{Value: "1"}
		_, err = j.s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(j.s.loc.Table),
			Item:                item,
			ConditionExpression: aws.String("attribute_not_exists(#k)"),
			ExpressionAttributeNames: map[string]string{
				"#k": attrKey,
			},
		})
	} else {
		_, err = j.s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:           aws.String(j.s.loc.Table),
			Key:                 j.item(key),
			UpdateExpression:    aws.String("SET #v = :v, #ver = :next"),
			ConditionExpression: aws.String("#ver = :expected"),
			ExpressionAttributeNames: map[string]string{
				"#v": attrValue, "#ver": attrVersion,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":v":        &types.AttributeValueMemberB{Value: nonNil(value)},
				":next":     &types.AttributeValueMemberN{Value: strconv.FormatInt(next, 10)},
				":expected": &types.AttributeValueMemberN{Value: strconv.FormatInt(expected, 10)},
			},
		})
	}
	var conflict *types.ConditionalCheckFailedException
	if errors.As(err, &conflict) {
		return 0, fmt.Errorf("state key %q: %w (expected version %d)", key, job.ErrVersionConflict, expected)
	}
	if err != nil {
		return 0, j.s.wrap("writing", key, err)
	}
	return next, nil
}

// nonNil keeps an empty value an empty binary attribute (DynamoDB rejects a null one).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func version(item map[string]types.AttributeValue) (int64, error) {
	n, ok := item[attrVersion].(*types.AttributeValueMemberN)
	if !ok {
		return 0, errors.New("the item has no version: it was not written by Blueprint")
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

// wrap says which table and key a call failed on, and what to fix when the table is missing.
func (s *Store) wrap(doing, key string, err error) error {
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		return fmt.Errorf("%s state key %q: table %s does not exist in %s (the provider creates it when a job keeps state): %w", doing, key, s.loc.Table, s.loc.Region, err)
	}
	return fmt.Errorf("%s state key %q in DynamoDB table %s: %w", doing, key, s.loc.Table, err)
}

// EnsureTable creates the table (on-demand billing, key "k") when it does not exist and waits
// until it is active. It is what the provider runs before deploying a stateful job.
func EnsureTable(ctx context.Context, client *dynamodb.Client, table string, tags map[string]string) error {
	if err := validTable(table); err != nil {
		return err
	}
	var tagList []types.Tag
	for k, v := range tags {
		tagList = append(tagList, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(attrKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(attrKey), KeyType: types.KeyTypeHash}},
		Tags:                 tagList,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("creating DynamoDB table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 5*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 5*time.Minute); err != nil {
		return fmt.Errorf("waiting for DynamoDB table %s to become active: %w", table, err)
	}
	return nil
}

// IsURL reports whether raw names a DynamoDB store.
func IsURL(raw string) bool { return strings.HasPrefix(raw, Scheme+"://") }
