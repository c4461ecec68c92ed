package broken

import "context"

//blueprint:job
func Broken(ctx context.Context, in string) (string, error) {
	return undefinedHelper(in), nil
}

func Mismatch() int { return "not an int" }
