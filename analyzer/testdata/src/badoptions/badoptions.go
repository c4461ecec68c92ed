package badoptions

import "context"

//blueprint:job memory=64
func TooSmall(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job memory=20000
func TooBig(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job timeout=20m
func TooLong(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job timeout=0s
func ZeroTimeout(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job mode=fast
func BadMode(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job color=red
func UnknownOption(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job name=Bad_Name
func BadName(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job memory
func NoValue(ctx context.Context, in string) (string, error) { return in, nil }
