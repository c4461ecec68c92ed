package dupnames

import "context"

//blueprint:job
func ResizeImage(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job name=resize_image
func Resize(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job
//blueprint:job name=twice
func Twice(ctx context.Context, in string) (string, error) { return in, nil }
