package notify

import "context"

// Named is anything with a stable name.
type Named interface {
	Name() string
}

// Notifier delivers a message somewhere; it embeds Named so results can say who got what.
type Notifier interface {
	Named
	Notify(ctx context.Context, msg string) error
}

// Broadcast sends msg to each notifier in order and returns the names that accepted it.
func Broadcast(ctx context.Context, msg string, ns ...Notifier) ([]string, error) {
	var ok []string
	for _, n := range ns {
		if err := n.Notify(ctx, msg); err != nil {
			return ok, err
		}
		ok = append(ok, n.Name())
	}
	return ok, nil
}
