// Package lambdatest is the AWS Lambda stand-in of the tests: moto_server for the control
// plane (functions, versions, aliases, tags, IAM), and AWS's runtime interface emulator
// (aws-lambda-rie) running the real bootstrap for invocations, which moto cannot do.
//
// Stand.URL is the endpoint clients use. It forwards every request to moto, keeping a copy of
// each uploaded zip by its CodeSha256 (moto keeps the code but offers no way to download it),
// except Invoke, which it serves the way Lambda does: it resolves the qualifier (an alias to
// its version) and reads that version's configuration from moto, runs the zip's bootstrap
// under an emulator (one per code and configuration, one invocation at a time: the emulator
// runs a single execution environment and fails under concurrent invokes), and answers with
// Lambda's status codes and headers. The emulator reports a job error with status 200 and no
// X-Amz-Function-Error header; the stand-in adds the header as Lambda does. Throttle makes it
// refuse invocations of one function as Lambda does when concurrency is exhausted (429,
// Retry-After), and SetFaults injects the control-plane behaviours moto does not model
// (faults.go): Pending and InProgress states, update conflicts, a role not yet assumable,
// request-rate throttling.
package lambdatest

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/serverless-blueprint/blueprint/internal/mototest"
)

// RIEEnv names the aws-lambda-rie binary; `make test` sets it from tools/lambda-rie.sh.
const RIEEnv = "BLUEPRINT_LAMBDA_RIE"

// Stand is a running stand-in.
type Stand struct {
	URL  string
	Moto *mototest.Server

	t   testing.TB
	rie string
	dir string

	mu        sync.Mutex
	runtimes  map[string]*runtime // by code sha + configuration
	code      map[string][]byte   // zips uploaded through the stand-in, by CodeSha256
	throttled map[string]time.Duration
	invokes   map[string]int // invocations that reached an emulator, by function name
	faults    faultState
}

type runtime struct {
	mu  sync.Mutex // one invocation at a time
	url string
	cmd *exec.Cmd
}

// Start runs moto and the stand-in in front of it for the test.
func Start(t testing.TB) *Stand {
	t.Helper()
	rie := os.Getenv(RIEEnv)
	if rie == "" {
		var err error
		if rie, err = exec.LookPath("aws-lambda-rie"); err != nil {
			t.Fatalf("aws-lambda-rie not found: run tools/lambda-rie.sh (make test does) and set %s to the path it prints", RIEEnv)
		}
	}
	s := &Stand{Moto: mototest.Start(t), t: t, rie: rie, dir: t.TempDir(),
		runtimes: map[string]*runtime{}, code: map[string][]byte{}, throttled: map[string]time.Duration{}, invokes: map[string]int{}}
	target, _ := url.Parse(s.Moto.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := invokePath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPost {
			s.invoke(w, r, m[1])
			return
		}
		handled, rewrite := s.intercept(w, r)
		if handled {
			return
		}
		if isCodeUpload(r) {
			s.recordCode(r)
		}
		if rewrite != nil {
			rw := &rewriting{ResponseWriter: w, rewrite: rewrite}
			proxy.ServeHTTP(rw, r)
			rw.flush()
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, rt := range s.runtimes {
			rt.cmd.Process.Kill()
			rt.cmd.Wait()
		}
	})
	s.URL = srv.URL
	return s
}

var (
	invokePath = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations$`)
	codePath   = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/code$`)
)

// isCodeUpload reports CreateFunction and UpdateFunctionCode, which carry a zip.
func isCodeUpload(r *http.Request) bool {
	return (r.Method == http.MethodPost && r.URL.Path == "/2015-03-31/functions") ||
		(r.Method == http.MethodPut && codePath.MatchString(r.URL.Path))
}

// recordCode keeps the zip of a code upload, inline or named in S3, by its CodeSha256 (base64
// SHA-256, as Lambda reports it): moto keeps the code, but hands back no way to download it.
func (s *Stand) recordCode(r *http.Request) {
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return
	}
	type code struct {
		ZipFile         []byte
		S3Bucket, S3Key string
	}
	var req struct {
		code
		Code code // CreateFunction's; UpdateFunctionCode's fields are at the top
	}
	if json.Unmarshal(body, &req) != nil {
		return
	}
	c := req.code
	if c.ZipFile == nil && c.S3Key == "" {
		c = req.Code
	}
	zipped := c.ZipFile
	if zipped == nil && c.S3Key != "" {
		// Code from a bucket: moto's S3 holds it (Lambda copies it at this call, too).
		store := s3.New(s3.Options{Region: requestRegion(r), BaseEndpoint: aws.String(s.Moto.URL), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
		obj, err := store.GetObject(r.Context(), &s3.GetObjectInput{Bucket: aws.String(c.S3Bucket), Key: aws.String(c.S3Key)})
		if err != nil {
			return
		}
		defer obj.Body.Close()
		if zipped, err = io.ReadAll(obj.Body); err != nil {
			return
		}
	}
	if zipped == nil {
		return
	}
	sum := sha256.Sum256(zipped)
	s.mu.Lock()
	s.code[base64.StdEncoding.EncodeToString(sum[:])] = zipped
	s.mu.Unlock()
}

// Throttle makes invocations of name answer 429 with Retry-After until stop is called.
func (s *Stand) Throttle(name string, retryAfter time.Duration) (stop func()) {
	s.mu.Lock()
	s.throttled[name] = retryAfter
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.throttled, name)
		s.mu.Unlock()
	}
}

// Invocations reports how many invocations of name reached an emulator.
func (s *Stand) Invocations(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invokes[name]
}

// lambdaError writes an error the way Lambda's API does (the SDK reads the type header).
func lambdaError(w http.ResponseWriter, status int, typ, message string) {
	w.Header().Set("X-Amzn-Errortype", typ)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": message})
}

// functionState is what an invocation runs: one version's code and configuration.
type functionState struct {
	Name, Version, CodeSha256 string
	Timeout, MemorySize       int
	Environment               map[string]string
}

// requestRegion reads the region from a SigV4 Authorization header's credential scope.
func requestRegion(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if i := strings.Index(auth, "Credential="); i >= 0 {
		parts := strings.Split(strings.SplitN(auth[i+len("Credential="):], ",", 2)[0], "/")
		if len(parts) >= 3 {
			return parts[2]
		}
	}
	return "us-east-1"
}

func (s *Stand) invoke(w http.ResponseWriter, r *http.Request, name string) {
	name, _ = url.PathUnescape(name)
	s.mu.Lock()
	retryAfter, throttled := s.throttled[name]
	s.mu.Unlock()
	if throttled {
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		lambdaError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.")
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	// The function as Lambda would run it: the qualifier's version (an alias resolved), its
	// configuration, and the code recorded when it was uploaded through this stand-in.
	c := lambda.New(lambda.Options{Region: requestRegion(r), BaseEndpoint: aws.String(s.Moto.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	in := &lambda.GetFunctionInput{FunctionName: aws.String(name)}
	if qual := r.URL.Query().Get("Qualifier"); qual != "" {
		in.Qualifier = aws.String(qual)
		if qual != "$LATEST" && !isNumber(qual) {
			alias, err := c.GetAlias(r.Context(), &lambda.GetAliasInput{FunctionName: aws.String(name), Name: aws.String(qual)})
			if err != nil {
				lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf("Function not found: %s:%s (%v)", name, qual, err))
				return
			}
			in.Qualifier = alias.FunctionVersion
		}
	}
	got, err := c.GetFunction(r.Context(), in)
	if err != nil {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf("Function not found: %s (%v)", name, err))
		return
	}
	fn := functionState{Name: name, Version: aws.ToString(got.Configuration.Version), CodeSha256: aws.ToString(got.Configuration.CodeSha256),
		Timeout: int(aws.ToInt32(got.Configuration.Timeout)), MemorySize: int(aws.ToInt32(got.Configuration.MemorySize))}
	if got.Configuration.Environment != nil {
		fn.Environment = got.Configuration.Environment.Variables
	}
	rt, err := s.runtimeFor(r.Context(), fn)
	if err != nil {
		lambdaError(w, http.StatusBadGateway, "ServiceException", err.Error())
		return
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	s.mu.Lock()
	s.invokes[name]++
	s.mu.Unlock()
	fwd, err := http.NewRequestWithContext(r.Context(), http.MethodPost, rt.url+"/2015-03-31/functions/function/invocations", bytes.NewReader(payload))
	if err != nil {
		lambdaError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	fwd.Header.Set("Content-Type", "application/json")
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		fwd.Header.Set("X-Amz-Client-Context", cc) // the emulator hands it to the runtime
	}
	res, err := http.DefaultClient.Do(fwd)
	if err != nil {
		lambdaError(w, http.StatusBadGateway, "ServiceException", "the emulator failed: "+err.Error())
		return
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	w.Header().Set("X-Amz-Executed-Version", fn.Version)
	if isError(out) {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// isError reports a payload that is an error object, {"errorMessage":…, "errorType":…}.
func isError(payload []byte) bool {
	var e map[string]json.RawMessage
	if json.Unmarshal(payload, &e) != nil {
		return false
	}
	_, msg := e["errorMessage"]
	_, typ := e["errorType"]
	return msg && typ
}

// runtimeFor returns the emulator running fn's code and configuration, starting it the first
// time: the zip is downloaded from moto and its bootstrap extracted.
func (s *Stand) runtimeFor(ctx context.Context, fn functionState) (*runtime, error) {
	cfg, _ := json.Marshal(fn)
	key := string(cfg)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt := s.runtimes[key]; rt != nil {
		return rt, nil
	}
	zipped, ok := s.code[fn.CodeSha256]
	if !ok {
		return nil, fmt.Errorf("no code with CodeSha256 %s was uploaded through the stand-in for %s", fn.CodeSha256, fn.Name)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return nil, fmt.Errorf("the code of %s is not a zip: %w", fn.Name, err)
	}
	dir, err := os.MkdirTemp(s.dir, "task-")
	if err != nil {
		return nil, err
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f.Name)), data, f.Mode().Perm()); err != nil {
			return nil, err
		}
	}
	bootstrap := filepath.Join(dir, "bootstrap")
	if _, err := os.Stat(bootstrap); err != nil {
		return nil, fmt.Errorf("the zip of %s has no bootstrap", fn.Name)
	}
	port, err := mototest.FreePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := mototest.FreePort() // the Runtime API the bootstrap polls; the default 9001 is one per machine
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.rie, "--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), "--log-level", "error", bootstrap)
	cmd.Dir = dir
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=" + fn.Version,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(fn.Timeout),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(fn.MemorySize),
		"AWS_REGION=us-east-1",
		// Lambda hands a function its execution role's credentials this way; moto takes any.
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_SESSION_TOKEN=testing"}
	for k, v := range fn.Environment {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting aws-lambda-rie: %w", err)
	}
	rt := &runtime{url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("aws-lambda-rie did not listen within 10 s: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.runtimes[key] = rt
	return rt, nil
}
