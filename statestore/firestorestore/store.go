// Package firestorestore keeps job.State in Google Cloud Firestore, for stateful jobs that run
// on Cloud Functions and on the VM alike: every place a job runs reads and writes the same
// documents.
//
// The store URL is firestore://PROJECT/COLLECTION, with ?database=ID for a database other than
// "(default)" and &emulator=HOST:PORT to talk to a Firestore emulator (the tests do; the
// FIRESTORE_EMULATOR_HOST variable works too). Credentials are Application Default Credentials.
//
// One document per job and key, ID "<job>.<key in unpadded base64url>" (document IDs may not
// hold "/"), fields "v" (bytes) and "ver" (integer). A write is one atomic commit with a
// precondition: a first version is a Create (fails when the document exists); a later one reads
// the document, checks its version, and writes on the condition that the document's update
// time is still the one read, so two writers never lose an update. (Read-write transactions
// lock the documents they read; contending writers then queue behind lock waits — the
// contract's 16 concurrent writers did not finish in 150 s on the emulator — where a
// precondition fails the loser at once.)
package firestorestore

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/statestore"
)

// Scheme is the URL scheme of Firestore stores.
const Scheme = "firestore"

// Field names of a document.
const (
	fieldValue   = "v"
	fieldVersion = "ver"
)

// Location is what a firestore:// URL names.
type Location struct {
	Project    string
	Collection string
	Database   string // "" = "(default)"
	Emulator   string // host:port of an emulator; "" = Google's endpoint
}

// IsURL reports whether raw names a Firestore store.
func IsURL(raw string) bool { return strings.HasPrefix(raw, Scheme+"://") }

var (
	projectID  = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	collection = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)
)

// ParseURL reads firestore://PROJECT/COLLECTION[?database=ID][&emulator=HOST:PORT], or says
// what to write.
func ParseURL(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != Scheme {
		return Location{}, fmt.Errorf("state store %q: write firestore://PROJECT/COLLECTION", raw)
	}
	loc := Location{Project: u.Host, Collection: strings.Trim(u.Path, "/"), Database: u.Query().Get("database"), Emulator: u.Query().Get("emulator")}
	if !projectID.MatchString(loc.Project) {
		return Location{}, fmt.Errorf("state store %q: %q is not a Google Cloud project ID (6 to 30 lowercase letters, digits and hyphens, starting with a letter)", raw, loc.Project)
	}
	if !collection.MatchString(loc.Collection) {
		return Location{}, fmt.Errorf("state store %q: name the collection for the state after the project: firestore://%s/blueprint-state", raw, loc.Project)
	}
	return loc, nil
}

// URL renders the location as a store URL.
func (l Location) URL() string {
	q := url.Values{}
	if l.Database != "" {
		q.Set("database", l.Database)
	}
	if l.Emulator != "" {
		q.Set("emulator", l.Emulator)
	}
	s := Scheme + "://" + l.Project + "/" + l.Collection
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// Client connects to the location's database: the emulator when one is named (which takes no
// credentials, so credential options are dropped), else Google with the options' credentials
// or Application Default Credentials.
func (l Location) Client(ctx context.Context, opts ...option.ClientOption) (*firestore.Client, error) {
	if l.Emulator != "" {
		// What the client library does for FIRESTORE_EMULATOR_HOST, for this client alone.
		opts = append([]option.ClientOption(nil), option.WithEndpoint(l.Emulator), option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
			option.WithGRPCDialOption(grpc.WithUnaryInterceptor(emulatorOwner)))
	}
	database := l.Database
	if database == "" {
		database = firestore.DefaultDatabaseID
	}
	c, err := firestore.NewClientWithDatabase(ctx, l.Project, database, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to Firestore (project %s): %w", l.Project, err)
	}
	return c, nil
}

// emulatorOwner authenticates to the emulator as its owner, as the client library does.
func emulatorOwner(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer owner"), method, req, reply, cc, opts...)
}

// Store is a Firestore collection holding the state of many jobs.
type Store struct {
	client *firestore.Client
	loc    Location
}

var _ statestore.Store = (*Store)(nil)

// Open opens the store a firestore:// URL names.
func Open(ctx context.Context, raw string, opts ...option.ClientOption) (*Store, error) {
	loc, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	client, err := loc.Client(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return &Store{client: client, loc: loc}, nil
}

func (s *Store) URL() string  { return s.loc.URL() }
func (s *Store) Close() error { return s.client.Close() }

// For returns one job's state.
func (s *Store) For(jobName string) job.State { return &jobState{s: s, job: jobName} }

type jobState struct {
	s   *Store
	job string
}

func (j *jobState) doc(key string) *firestore.DocumentRef {
	return j.s.client.Collection(j.s.loc.Collection).Doc(j.job + "." + base64.RawURLEncoding.EncodeToString([]byte(key)))
}

func (j *jobState) Get(ctx context.Context, key string) ([]byte, int64, error) {
	if err := statestore.CheckKey(key); err != nil {
		return nil, 0, err
	}
	snap, err := j.doc(key).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, j.s.wrap("reading", key, err)
	}
	return read(snap, key)
}

// read takes the value and version out of a document Blueprint wrote.
func read(snap *firestore.DocumentSnapshot, key string) ([]byte, int64, error) {
	ver, err := snap.DataAt(fieldVersion)
	if err != nil {
		return nil, 0, fmt.Errorf("state key %q: the document has no version: it was not written by Blueprint", key)
	}
	n, ok := ver.(int64)
	if !ok {
		return nil, 0, fmt.Errorf("state key %q: the document's version is a %T, not an integer", key, ver)
	}
	value := []byte{} // an empty value exists, unlike a missing key
	if v, err := snap.DataAt(fieldValue); err == nil {
		if b, ok := v.([]byte); ok && len(b) > 0 {
			value = b
		}
	}
	return value, n, nil
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
	if value == nil {
		value = []byte{}
	}
	conflict := func() (int64, error) {
		return 0, fmt.Errorf("state key %q: %w (expected version %d)", key, job.ErrVersionConflict, expected)
	}
	doc := j.doc(key)
	fields := map[string]any{fieldValue: value, fieldVersion: expected + 1}
	if expected == 0 {
		_, err := doc.Create(ctx, fields) // fails when the key exists
		if status.Code(err) == codes.AlreadyExists {
			return conflict()
		}
		if err != nil {
			return 0, j.s.wrap("writing", key, err)
		}
		return 1, nil
	}
	snap, err := doc.Get(ctx)
	if status.Code(err) == codes.NotFound {
		return conflict()
	}
	if err != nil {
		return 0, j.s.wrap("writing", key, err)
	}
	_, have, err := read(snap, key)
	if err != nil {
		return 0, err
	}
	if have != expected {
		return conflict()
	}
	// The write commits only if the document is still the one read: its update time is the
	// precondition, so a writer that came in between makes this one fail, not vanish.
	_, err = doc.Update(ctx, []firestore.Update{{Path: fieldValue, Value: value}, {Path: fieldVersion, Value: expected + 1}},
		firestore.LastUpdateTime(snap.UpdateTime))
	if c := status.Code(err); c == codes.FailedPrecondition || c == codes.Aborted || c == codes.NotFound {
		return conflict()
	}
	if err != nil {
		return 0, j.s.wrap("writing", key, err)
	}
	return expected + 1, nil
}

// wrap says which collection and key a call failed on.
func (s *Store) wrap(doing, key string, err error) error {
	if status.Code(err) == codes.PermissionDenied {
		return fmt.Errorf("%s state key %q in Firestore %s: the identity may not use it (it needs roles/datastore.user): %w", doing, key, s.loc.URL(), err)
	}
	return fmt.Errorf("%s state key %q in Firestore %s: %w", doing, key, s.loc.URL(), err)
}
