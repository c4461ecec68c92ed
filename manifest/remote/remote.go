// Package remote reads deployment states kept in object stores (s3://, gs://) for the runtime
// agent, apart from manifest so that readers of local states do not link the clouds' SDKs.
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"cloud.google.com/go/storage"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/serverless-blueprint/blueprint/manifest"
)

// Remote is a state kept in an object store: s3://bucket/key (Terraform's S3 backend, or a
// `pulumi stack export` uploaded there) or gs://bucket/object. Fetch asks for the object only
// when it changed (S3: If-None-Match on its ETag; GCS: its generation), so polling costs a
// request and no transfer.
type Remote interface {
	// Fetch returns the object's content and version when its version differs from version
	// ("" = any); data is nil when it has not changed.
	Fetch(ctx context.Context, version string) (data []byte, newVersion string, err error)
	String() string
}

// IsRemote reports whether a state source names an object store.
func Is(source string) bool {
	return strings.HasPrefix(source, "s3://") || strings.HasPrefix(source, "gs://")
}

// Open opens an s3:// or gs:// state source. Credentials come from the environment as
// each cloud's tools find them: the AWS default chain (and AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL for an S3-compatible store, addressed path-style), Google's Application
// Default Credentials (and STORAGE_EMULATOR_HOST for an emulator).
func Open(ctx context.Context, source string) (Remote, error) {
	u, err := url.Parse(source)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return nil, fmt.Errorf("state source %q: write s3://BUCKET/KEY or gs://BUCKET/OBJECT", source)
	}
	bucket, key := u.Host, strings.TrimPrefix(u.Path, "/")
	switch u.Scheme {
	case "s3":
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("state source %s: AWS configuration: %w", source, err)
		}
		if cfg.Region == "" {
			cfg.Region = "us-east-1" // GetObject needs one; S3 redirects nothing for this
		}
		custom := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
		client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = custom })
		return &s3Remote{client: client, bucket: bucket, key: key}, nil
	case "gs":
		client, err := storage.NewClient(ctx, storage.WithJSONReads()) // JSON API reads: what emulators serve too
		if err != nil {
			return nil, fmt.Errorf("state source %s: Google Cloud Storage client: %w", source, err)
		}
		return &gcsRemote{object: client.Bucket(bucket).Object(key), source: source}, nil
	}
	return nil, fmt.Errorf("state source %q: unknown scheme; use a path, s3:// or gs://", source)
}

// readBounded reads a state, refusing one larger than any state the agent would load.
func readBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, manifest.MaxStateBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > manifest.MaxStateBytes {
		return nil, fmt.Errorf("the state is larger than %d bytes", manifest.MaxStateBytes)
	}
	return data, nil
}

type s3Remote struct {
	client      *s3.Client
	bucket, key string
}

func (r *s3Remote) String() string { return "s3://" + r.bucket + "/" + r.key }

func (r *s3Remote) Fetch(ctx context.Context, version string) ([]byte, string, error) {
	in := &s3.GetObjectInput{Bucket: &r.bucket, Key: &r.key}
	if version != "" {
		in.IfNoneMatch = &version
	}
	out, err := r.client.GetObject(ctx, in)
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotModified {
			return nil, version, nil
		}
		return nil, "", fmt.Errorf("reading %s: %w", r, err)
	}
	defer out.Body.Close()
	data, err := readBounded(out.Body)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", r, err)
	}
	etag := ""
	if out.ETag != nil {
		etag = *out.ETag
	}
	return data, etag, nil
}

type gcsRemote struct {
	object *storage.ObjectHandle
	source string
}

func (r *gcsRemote) String() string { return r.source }

func (r *gcsRemote) Fetch(ctx context.Context, version string) ([]byte, string, error) {
	attrs, err := r.object.Attrs(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", r.source, err)
	}
	gen := strconv.FormatInt(attrs.Generation, 10)
	if gen == version {
		return nil, version, nil
	}
	rd, err := r.object.NewReader(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", r.source, err)
	}
	defer rd.Close()
	data, err := readBounded(io.Reader(rd))
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", r.source, err)
	}
	// The version is that of what was read (a write may have come between the two calls).
	return data, strconv.FormatInt(rd.Attrs.Generation, 10), nil
}
