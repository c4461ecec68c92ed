package runtimeagent

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/serverless-blueprint/blueprint/internal/mototest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/router"
)

// stateBytes renders a state as writeState writes it.
func stateBytes(t *testing.T, serial int, jobs ...stateJob) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.tfstate")
	writeState(t, path, serial, jobs...)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// followRemote starts an agent on a state object and checks that it follows a change of the
// object without dropping a request, and that polls of an unchanged object load nothing.
func followRemote(t *testing.T, source string, put func(data []byte)) {
	put(stateBytes(t, 1, defaultJobs...))
	a, err := New(context.Background(), Config{StatePath: source, Policy: router.Policy{LocalCapacity: 4}, PollInterval: 20 * time.Millisecond,
		Local: &fakeLocal{}, Platforms: fakePlatforms(t, map[string]platform.Invoker{"fake": newFakeRemote()}), MemoBytes: -1, HedgeRatio: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAgent(t, a)
	if m := a.Manifest(); m.Serial != 1 || m.Source != source {
		t.Fatalf("loaded %q serial %d", m.Source, m.Serial)
	}
	time.Sleep(150 * time.Millisecond) // several polls of an unchanged object
	if n := reloadsOK(t, srv.URL); n != 0 {
		t.Fatalf("%v reloads of an unchanged object", n)
	}

	// Requests keep flowing while the state changes under them.
	var failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(srv.URL+"/v1/jobs/resize:run", "application/json", strings.NewReader(`{"n":1}`))
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				}
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	put(stateBytes(t, 2, append(defaultJobs, stateJob{name: "extra", eligible: false})...))
	deadline := time.Now().Add(10 * time.Second)
	for a.Manifest().Serial != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not follow the change of %s", source)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d requests failed while the state changed", n)
	}
	if _, ok := a.Job("extra"); !ok {
		t.Fatal("the new job is not in the manifest")
	}
	if n := reloadsOK(t, srv.URL); n != 1 {
		t.Fatalf("%v reloads, want 1", n)
	}
}

func reloadsOK(t *testing.T, url string) float64 {
	t.Helper()
	f := scrapeFamilies(t, url)["blueprint_agent_manifest_reloads_total"]
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "result" && l.GetValue() == "ok" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestRemoteState_S3 follows a state object in moto's S3 (conditional GETs on its ETag).
func TestRemoteState_S3(t *testing.T) {
	moto := mototest.Start(t)
	t.Setenv("AWS_ENDPOINT_URL_S3", moto.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("states")}); err != nil {
		t.Fatal(err)
	}
	followRemote(t, "s3://states/prod/terraform.tfstate", func(data []byte) {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("states"), Key: aws.String("prod/terraform.tfstate"), Body: strings.NewReader(string(data))}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRemoteState_GCS follows a state object in fake-gcs-server (by its generation).
func TestRemoteState_GCS(t *testing.T) {
	server, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Stop()
	t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(server.URL(), "http://"))
	server.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "states"})
	followRemote(t, "gs://states/prod/default.tfstate", func(data []byte) {
		// Each write is a new generation of the object, as in GCS.
		server.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "states", Name: "prod/default.tfstate"}, Content: data})
	})
}

// TestWaitForState: an agent started before its state exists serves as not ready, and becomes
// ready when the state appears.
func TestWaitForState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "terraform.tfstate")
	a, err := New(context.Background(), Config{StatePath: path, WaitForState: true, PollInterval: 20 * time.Millisecond,
		Local: &fakeLocal{}, Platforms: fakePlatforms(t, map[string]platform.Invoker{"fake": newFakeRemote()})})
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAgent(t, a)
	ready := func() (int, string) {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := ready(); status != 503 || !strings.Contains(body, "does not exist") {
		t.Fatalf("before the state: %d %s", status, body)
	}
	writeState(t, path, 1, defaultJobs...)
	waitFor(t, "ready", func() bool { s, _ := ready(); return s == 200 })
	if _, ok := a.Job("resize"); !ok {
		t.Fatal("no job after the state loaded")
	}
}
