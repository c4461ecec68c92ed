package greet

import "context"

type Request struct {
	Name string `json:"name"`
}

type Reply struct {
	Greeting string `json:"greeting"`
}

//blueprint:job
func Greet(ctx context.Context, in Request) (Reply, error) {
	return Reply{Greeting: "hello " + in.Name}, nil
}
