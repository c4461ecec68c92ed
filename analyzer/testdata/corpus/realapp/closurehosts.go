package realapp

import (
	"context"
	"net/http"
)

// checker is a health check built around one URL.
type checker func(ctx context.Context) (Out, error)

func healthCheck(url string) checker {
	return func(ctx context.Context) (Out, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return Out{}, err
		}
		return statusOf(http.DefaultClient.Do(req))
	}
}

func statusCheck(url string) checker {
	return func(ctx context.Context) (Out, error) { return statusOf(http.Get(url)) }
}

// CheckInventory runs a check whose URL the closure captured from the one constant every
// caller of healthCheck passes.
// expect: pure=false deterministic=false state=false eligible=true hosts=inventory.example.com
//
//blueprint:job
func CheckInventory(ctx context.Context, in In) (Out, error) {
	check := healthCheck("https://inventory.example.com/healthz")
	return check(ctx)
}

// CheckPrimary and CheckReplica build status checks for two different constants; each runs
// only its own (the closure is read in the context of the call that made it).
// expect: pure=false deterministic=false state=false eligible=true hosts=primary.example.com
//
//blueprint:job
func CheckPrimary(ctx context.Context, in In) (Out, error) {
	return statusCheck("https://primary.example.com/status")(ctx)
}

// CheckReplica is CheckPrimary's twin for the replica.
// expect: pure=false deterministic=false state=false eligible=true hosts=replica.example.com
//
//blueprint:job
func CheckReplica(ctx context.Context, in In) (Out, error) {
	return statusCheck("https://replica.example.com/status")(ctx)
}
