// Package images is a job package in a user's own module, outside the blueprint module.
package images

import (
	"context"
	"net/http"
	"strings"

	"github.com/serverless-blueprint/blueprint/job"
)

type ResizeRequest struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

type ResizeResult struct {
	Key string `json:"key"`
}

//blueprint:job memory=1024
func ResizeImage(ctx context.Context, in ResizeRequest) (ResizeResult, error) {
	return ResizeResult{Key: strings.ToLower(in.URL)}, nil
}

//blueprint:job name=fetch timeout=10s
func Fetch(ctx context.Context, st job.State, in ResizeRequest) (ResizeResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://images.example.net:8443/raw", nil)
	if err != nil {
		return ResizeResult{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ResizeResult{}, err
	}
	defer resp.Body.Close()
	_, err = st.Put(ctx, in.URL, []byte(resp.Status), 0)
	return ResizeResult{Key: in.URL}, err
}
