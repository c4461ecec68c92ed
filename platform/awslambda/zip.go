package awslambda

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/atomicfile"
	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform"
)

// Architectures Lambda runs (provided.al2023) and the GOARCH each needs.
const (
	ArchARM64  = "arm64"
	ArchX86_64 = "x86_64"
)

var goarch = map[string]string{ArchARM64: "arm64", ArchX86_64: "amd64"}

// zipEpoch is the modification time of every file in a package's zip: a fixed time makes the
// same bootstrap give the same zip, so the same SHA-256 and the same CodeSha256 on Lambda.
var zipEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// build makes the function zip for an architecture: the package's native bootstrap (the same
// binary the agent runs locally, built by the packager for linux) as the single file
// "bootstrap", executable, in a reproducible zip stored content-addressed next to it.
func build(arch string) platform.BuildFunc {
	return func(ctx context.Context, req platform.BuildRequest) (platform.Artifact, error) {
		ga, ok := goarch[arch]
		if !ok {
			return platform.Artifact{}, fmt.Errorf("architecture %q: Lambda runs %s or %s", arch, ArchARM64, ArchX86_64)
		}
		bin, err := packager.BuildNative(ctx, packager.NativeBuild{Dir: req.Dir, Jobs: req.Jobs, GOOS: "linux", GOARCH: ga,
			CacheDir: req.CacheDir, Logger: req.Logger})
		if err != nil {
			return platform.Artifact{}, err
		}
		zipped, err := bootstrapZip(bin.Path)
		if err != nil {
			return platform.Artifact{}, err
		}
		sum := sha256.Sum256(zipped)
		hexSum := hex.EncodeToString(sum[:])
		path := filepath.Join(filepath.Dir(bin.Path), hexSum+".zip")
		if _, err := os.Stat(path); err != nil {
			if err := atomicfile.Write(path, zipped); err != nil {
				return platform.Artifact{}, fmt.Errorf("storing the Lambda zip: %w", err)
			}
		}
		return platform.Artifact{Kind: platform.ArtifactLambdaZip, Path: path, SHA256: hexSum, Size: int64(len(zipped))}, nil
	}
}

// bootstrapZip zips the binary as "bootstrap" with a fixed time and mode.
func bootstrapZip(binPath string) ([]byte, error) {
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return nil, fmt.Errorf("reading the bootstrap: %w", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipEpoch}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(bin); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// codeSHA256 converts a hex SHA-256 (what Blueprint records) to Lambda's CodeSha256 (base64).
func codeSHA256(hexSum string) (string, error) {
	raw, err := hex.DecodeString(hexSum)
	if err != nil || len(raw) != sha256.Size {
		return "", fmt.Errorf("%q is not a hex SHA-256", hexSum)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// hexSHA256 converts Lambda's CodeSha256 back to hex.
func hexSHA256(codeSha string) string {
	raw, err := base64.StdEncoding.DecodeString(codeSha)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(raw)
}
