// Package cgojob calls C, which no serverless build of the job can carry.
package cgojob

/*
static int twice(int x) { return 2 * x; }
*/
import "C"

import "context"

//blueprint:job
func Twice(ctx context.Context, n int) (int, error) { return int(C.twice(C.int(n))), nil }
