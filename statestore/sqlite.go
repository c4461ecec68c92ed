package statestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite", pure Go

	"github.com/serverless-blueprint/blueprint/job"
)

// sqliteStore keeps state in one SQLite file in WAL mode: readers never block the writer, and
// separate processes (the agent, the hosts on the same machine) share the file safely, each
// waiting its turn to write (busy_timeout) instead of failing.
type sqliteStore struct {
	db   *sql.DB
	path string
}

const schema = `CREATE TABLE IF NOT EXISTS state (
	job     TEXT    NOT NULL,
	key     TEXT    NOT NULL,
	value   BLOB    NOT NULL,
	version INTEGER NOT NULL,
	PRIMARY KEY (job, key)
) WITHOUT ROWID`

func openSQLite(path string) (Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state store %s: creating its directory: %w", path, err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("state store %s: %w", path, err)
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("state store %s is not a usable SQLite database (%v): move it away, or point state_store at another file", path, err)
	}
	return &sqliteStore{db: db, path: path}, nil
}

func (s *sqliteStore) URL() string  { return "sqlite://" + s.path }
func (s *sqliteStore) Close() error { return s.db.Close() }

func (s *sqliteStore) For(jobName string) job.State { return &sqliteState{s: s, job: jobName} }

type sqliteState struct {
	s   *sqliteStore
	job string
}

func (st *sqliteState) Get(ctx context.Context, key string) ([]byte, int64, error) {
	if err := CheckKey(key); err != nil {
		return nil, 0, err
	}
	var value []byte
	var version int64
	err := st.s.db.QueryRowContext(ctx, `SELECT value, version FROM state WHERE job = ? AND key = ?`, st.job, key).Scan(&value, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading state %q of job %q: %w", key, st.job, err)
	}
	if value == nil {
		value = []byte{} // stored empty: present, unlike a missing key
	}
	return value, version, nil
}

// Put writes only when the stored version is expectedVersion (0: absent), in one statement, so
// no two writers can both succeed from the same version.
func (st *sqliteState) Put(ctx context.Context, key string, value []byte, expectedVersion int64) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	if len(value) > MaxValueBytes {
		return 0, fmt.Errorf("state %q of job %q: %d bytes is more than the %d a value may hold", key, st.job, len(value), MaxValueBytes)
	}
	if value == nil {
		value = []byte{}
	}
	var res sql.Result
	var err error
	if expectedVersion == 0 {
		res, err = st.s.db.ExecContext(ctx, `INSERT INTO state (job, key, value, version) VALUES (?, ?, ?, 1) ON CONFLICT DO NOTHING`, st.job, key, value)
	} else {
		res, err = st.s.db.ExecContext(ctx, `UPDATE state SET value = ?, version = version + 1 WHERE job = ? AND key = ? AND version = ?`, value, st.job, key, expectedVersion)
	}
	if err != nil {
		return 0, fmt.Errorf("writing state %q of job %q: %w", key, st.job, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return 0, fmt.Errorf("writing state %q of job %q at version %d: %w", key, st.job, expectedVersion, job.ErrVersionConflict)
	}
	return expectedVersion + 1, nil
}
