//go:build blueprint_extra

package misc

import "context"

//blueprint:job
func Tagged(ctx context.Context, in In) (int, error) { return 0, nil }
