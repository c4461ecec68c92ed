package store

import (
	"context"
	"database/sql"
	"fmt"
)

// dsn points at the orders database.
const dsn = "postgres://app@orders.db.internal:5432/shop?sslmode=require"

// Open connects to the orders database and checks that it answers.
func Open(ctx context.Context) (*sql.DB, error) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("orders database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("orders database: %w", err)
	}
	return db, nil
}
