package methoddirective

import "context"

type Service struct{}

//blueprint:job
func (s *Service) Resize(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job
var Handler = func(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job
type Config struct{}

func Body(ctx context.Context, in string) (string, error) {
	//blueprint:job
	return in, nil
}
