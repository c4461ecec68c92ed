package awslambda

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// MaxDirectZipBytes is the largest zip Lambda takes inline in CreateFunction and
// UpdateFunctionCode; bigger ones go through the artifact bucket.
const MaxDirectZipBytes = 50 << 20

// MaxUnzippedBytes is the most a function's code may unpack to, however it is uploaded.
const MaxUnzippedBytes = 250 << 20

// RegionPlaceholder in artifact_bucket stands for the function's region: Lambda reads code
// only from a bucket in the function's own region, so one bucket serves one region.
const RegionPlaceholder = "{region}"

// bucketFor is the artifact bucket of a region, "" when none is configured.
func (d *Deployer) bucketFor(region string) string {
	return strings.ReplaceAll(d.cfg.ArtifactBucket, RegionPlaceholder, region)
}

// functionCode is how a zip reaches Lambda in region: inline when it fits a direct upload,
// else as an object of the region's artifact bucket (uploaded once per code hash).
func (d *Deployer) functionCode(ctx context.Context, region string, zipped []byte, shaHex string) (*types.FunctionCode, error) {
	if unzipped, err := unzippedSize(zipped); err != nil {
		return nil, fmt.Errorf("reading the function zip: %w", err)
	} else if unzipped > MaxUnzippedBytes {
		return nil, fmt.Errorf("the function zip unpacks to %d MB, over the %d MB Lambda allows for a function's code: make the job's package smaller", unzipped>>20, MaxUnzippedBytes>>20)
	}
	if len(zipped) <= d.directLimit() {
		return &types.FunctionCode{ZipFile: zipped}, nil
	}
	if d.cfg.ArtifactBucket == "" {
		return nil, fmt.Errorf("the function zip is %.1f MB, over the %d MB Lambda takes in a direct upload: set the aws_lambda block's artifact_bucket to an S3 bucket in each region (e.g. \"my-artifacts-%s\") that these credentials may write",
			float64(len(zipped))/(1<<20), d.directLimit()>>20, RegionPlaceholder)
	}
	bucket, key := d.bucketFor(region), "blueprint/"+shaHex+".zip"
	_, err, _ := d.uploads.Do(region+"/"+key, func() (any, error) {
		return nil, d.upload(ctx, region, bucket, key, zipped)
	})
	if err != nil {
		return nil, err
	}
	return &types.FunctionCode{S3Bucket: aws.String(bucket), S3Key: aws.String(key)}, nil
}

// upload puts the zip in the bucket unless an earlier deploy did: objects are named by their
// hash, so one that exists holds these bytes.
func (d *Deployer) upload(ctx context.Context, region, bucket, key string, zipped []byte) error {
	c := d.s3s[region]
	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		return nil
	}
	var missing *s3types.NotFound
	if !errors.As(err, &missing) {
		return bucketError(bucket, region, "reading", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(zipped), ContentType: aws.String("application/zip")}); err != nil {
		return bucketError(bucket, region, "uploading the function zip to", err)
	}
	return nil
}

func bucketError(bucket, region, doing string, err error) error {
	// HeadBucket answers a bare 404 (NotFound); the other calls name NoSuchBucket.
	var noBucket *s3types.NoSuchBucket
	var notFound *s3types.NotFound
	if errors.As(err, &noBucket) || errors.As(err, &notFound) || strings.Contains(err.Error(), "NoSuchBucket") {
		return fmt.Errorf("%s artifact bucket %s: it does not exist; create it in %s (Lambda reads code only from its own region), or fix artifact_bucket", doing, bucket, region)
	}
	return fmt.Errorf("%s artifact bucket %s in %s (the credentials need s3:GetObject and s3:PutObject on it): %w", doing, bucket, region, err)
}

func (d *Deployer) directLimit() int {
	if d.cfg.MaxDirectZipBytes > 0 {
		return d.cfg.MaxDirectZipBytes
	}
	return MaxDirectZipBytes
}

// unzippedSize is what the zip's files add up to once unpacked.
func unzippedSize(zipped []byte) (uint64, error) {
	r, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, f := range r.File {
		n += f.UncompressedSize64
	}
	return n, nil
}
