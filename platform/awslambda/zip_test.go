package awslambda

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestBootstrapZipIsReproducible: the same bootstrap always zips to the same bytes (so the
// same SHA-256 and CodeSha256), with one executable file named bootstrap, whatever the file's
// own time and mode on disk.
func TestBootstrapZipIsReproducible(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for i, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho the same program\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, time.Now(), time.Now().Add(time.Duration(i)*time.Hour))
	}
	za, err := bootstrapZip(a)
	if err != nil {
		t.Fatal(err)
	}
	zb, err := bootstrapZip(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(za, zb) {
		t.Fatal("two zips of the same bootstrap differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(za), int64(len(za)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 || !zr.File[0].Modified.Equal(zipEpoch) {
		t.Fatalf("zip holds %+v; want one 0755 file named bootstrap dated %v", zr.File[0].FileHeader, zipEpoch)
	}
	if got, err := codeSHA256("00"); err == nil {
		t.Errorf("codeSHA256 of a short hash = %q, want an error", got)
	}
	hexSum := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	b64, err := codeSHA256(hexSum)
	if err != nil || hexSHA256(b64) != hexSum {
		t.Fatalf("hex → CodeSha256 → hex: %q, %q, %v", b64, hexSHA256(b64), err)
	}
}

// TestTransient: only the errors Lambda's control plane returns while it settles are retried;
// a function name already taken is not (the deploy takes the function over instead).
func TestTransient(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&types.ResourceConflictException{Message: aws.String("An update is in progress for resource: arn:aws:lambda:us-east-1:1:function:f")}, true},
		{&types.ResourceConflictException{Message: aws.String("Function already exist: f")}, false},
		{&types.TooManyRequestsException{Message: aws.String("Rate exceeded")}, true},
		{&types.InvalidParameterValueException{Message: aws.String("The role defined for the function cannot be assumed by Lambda.")}, true},
		{&types.InvalidParameterValueException{Message: aws.String("Unzipped size must be smaller than 262144000 bytes")}, false},
		{errors.New("connection refused"), false},
	} {
		if got := transient(c.err); got != c.want {
			t.Errorf("transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
