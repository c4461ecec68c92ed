package main

import "context"

//blueprint:job
func Hello(ctx context.Context, in string) (string, error) { return in, nil }

func main() {}
