package bad

import "context"

//blueprint:job
func Two(ctx context.Context) error { return nil }
