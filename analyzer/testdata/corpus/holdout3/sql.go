package holdout3

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout3/store"
)

// query is a small SQL builder: it only builds strings and argument lists.
type query struct {
	table string
	where []string
	args  []any
	order string
	limit int
	sb    strings.Builder
}

func (q *query) eq(col string, v any) *query {
	q.args = append(q.args, v)
	q.where = append(q.where, col+" = $"+strconv.Itoa(len(q.args)))
	return q
}

func (q *query) sql(cols ...string) string {
	q.sb.Reset()
	q.sb.WriteString("SELECT " + strings.Join(cols, ", ") + " FROM " + q.table)
	if len(q.where) > 0 {
		q.sb.WriteString(" WHERE " + strings.Join(q.where, " AND "))
	}
	if q.order != "" {
		q.sb.WriteString(" ORDER BY " + q.order)
	}
	if q.limit > 0 {
		fmt.Fprintf(&q.sb, " LIMIT %d", q.limit)
	}
	return q.sb.String()
}

// BuildSelect exercises a query builder (method chaining, strings.Builder, fmt.Fprintf into a
// field) fed from a map whose keys are sorted first.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func BuildSelect(ctx context.Context, in In) (Out, error) {
	q := &query{table: "orders", order: "created_at DESC", limit: in.N}
	cols := make([]string, 0, len(in.Filters))
	for c := range in.Filters {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		q.eq(c, in.Filters[c])
	}
	args := make([]string, len(q.args))
	for i, a := range q.args {
		args[i] = fmt.Sprint(a)
	}
	return Out{Text: q.sql("id", "total"), Lines: args}, nil
}

// BuildUpdate exercises a SET clause built straight from map iteration (placeholder numbers
// and column order follow the iteration order into the output).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func BuildUpdate(ctx context.Context, in In) (Out, error) {
	var sets, args []string
	for col, v := range in.Filters {
		args = append(args, v)
		sets = append(sets, col+" = $"+strconv.Itoa(len(args)))
	}
	args = append(args, in.ID)
	stmt := "UPDATE orders SET " + strings.Join(sets, ", ") + " WHERE id = $" + strconv.Itoa(len(args))
	return Out{Text: stmt, Lines: args}, nil
}

// CountOrders exercises database/sql through a helper that opens a constant DSN (reading: the
// database host is the network call; the driver is registered by the program's main).
// expect: pure=false deterministic=false state=false eligible=true hosts=orders.db.internal
//
//blueprint:job
func CountOrders(ctx context.Context, in In) (Out, error) {
	db, err := store.Open(ctx)
	if err != nil {
		return Out{}, err
	}
	defer db.Close()
	q := &query{table: "orders"}
	q.eq("tenant", in.Tenant)
	var n int
	if err := db.QueryRowContext(ctx, q.sql("count(*)"), q.args...).Scan(&n); err != nil {
		return Out{}, fmt.Errorf("count orders: %w", err)
	}
	return Out{Count: n}, nil
}

// CancelOrder exercises an UPDATE through database/sql (ExecContext, RowsAffected) on the
// helper's constant DSN.
// expect: pure=false deterministic=false state=false eligible=true hosts=orders.db.internal
//
//blueprint:job
func CancelOrder(ctx context.Context, in In) (Out, error) {
	db, err := store.Open(ctx)
	if err != nil {
		return Out{}, err
	}
	defer db.Close()
	res, err := db.ExecContext(ctx, "UPDATE orders SET status = 'cancelled' WHERE id = $1 AND tenant = $2", in.ID, in.Tenant)
	if err != nil {
		return Out{}, fmt.Errorf("cancel order %s: %w", in.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Out{}, err
	}
	return Out{Count: int(n), OK: n == 1}, nil
}
