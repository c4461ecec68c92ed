// Package network holds corpus jobs that call out over the network: impure, not
// deterministic, still eligible; the expect lines list the hosts ("*" when computed).
package network

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/lib"
)

// In is the input of every job in this package.
type In struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Region string `json:"region"`
	Body   string `json:"body"`
}

// Out is the output of every job in this package.
type Out struct {
	Status int    `json:"status"`
	Text   string `json:"text"`
}

func status(resp *http.Response, err error) (Out, error) {
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	return Out{Status: resp.StatusCode}, nil
}

// GetConstant exercises http.Get of a constant URL.
// expect: pure=false deterministic=false state=false eligible=true hosts=api.example.com
//
//blueprint:job
func GetConstant(ctx context.Context, in In) (Out, error) {
	return status(http.Get("https://api.example.com/v1/status"))
}

// RequestDo exercises http.NewRequest with a constant URL, then Client.Do.
// expect: pure=false deterministic=false state=false eligible=true hosts=billing.example.com
//
//blueprint:job
func RequestDo(ctx context.Context, in In) (Out, error) {
	req, err := http.NewRequest(http.MethodPost, "https://billing.example.com/charge", strings.NewReader(in.Body))
	if err != nil {
		return Out{}, err
	}
	client := &http.Client{}
	return status(client.Do(req.WithContext(ctx)))
}

// ConcatID exercises a URL built from a constant prefix and the input (the host is constant).
// expect: pure=false deterministic=false state=false eligible=true hosts=api.example.com
//
//blueprint:job
func ConcatID(ctx context.Context, in In) (Out, error) {
	return status(http.Get("https://api.example.com/v1/" + in.ID))
}

// ComputedURL exercises a URL that comes whole from the input (host not a constant).
// expect: pure=false deterministic=false state=false eligible=true hosts=*
//
//blueprint:job
func ComputedURL(ctx context.Context, in In) (Out, error) {
	return status(http.Get(in.URL))
}

// ComputedHost exercises a host formatted from the input.
// expect: pure=false deterministic=false state=false eligible=true hosts=*
//
//blueprint:job
func ComputedHost(ctx context.Context, in In) (Out, error) {
	return status(http.Get(fmt.Sprintf("https://%s.example.com/health", in.Region)))
}

// DialTCP exercises net.Dial to a constant host:port (the host is listed without the port).
// expect: pure=false deterministic=false state=false eligible=true hosts=db.internal
//
//blueprint:job
func DialTCP(ctx context.Context, in In) (Out, error) {
	conn, err := net.Dial("tcp", "db.internal:5432")
	if err != nil {
		return Out{}, err
	}
	defer conn.Close()
	b, err := io.ReadAll(io.LimitReader(conn, 64))
	return Out{Text: string(b)}, err
}

// GRPCClient exercises a gRPC client to a constant target, connected eagerly.
// expect: pure=false deterministic=false state=false eligible=true hosts=orders.internal
//
//blueprint:job
func GRPCClient(ctx context.Context, in In) (Out, error) {
	conn, err := grpc.NewClient("orders.internal:443", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return Out{}, err
	}
	defer conn.Close()
	conn.Connect()
	conn.WaitForStateChange(ctx, conn.GetState())
	return Out{Text: conn.GetState().String()}, nil
}

// PingDeep exercises a constant URL passed through lib.Ping -> deep.Status -> http.Get.
// expect: pure=false deterministic=false state=false eligible=true hosts=status.example.com
//
//blueprint:job
func PingDeep(ctx context.Context, in In) (Out, error) {
	code, err := lib.Ping("https://status.example.com/health")
	return Out{Status: code}, err
}

// GetViaHelper exercises a constant URL passed to lib.Get (NewRequestWithContext + DefaultClient.Do).
// expect: pure=false deterministic=false state=false eligible=true hosts=api.example.com
//
//blueprint:job
func GetViaHelper(ctx context.Context, in In) (Out, error) {
	code, err := lib.Get(ctx, "https://api.example.com/v2/items")
	return Out{Status: code}, err
}

// TwoHosts exercises two constant hosts in one job (HTTP and a TCP dial).
// expect: pure=false deterministic=false state=false eligible=true hosts=api.example.com,cache.internal
//
//blueprint:job
func TwoHosts(ctx context.Context, in In) (Out, error) {
	out, err := status(http.Get("https://api.example.com/v1/ping"))
	if err != nil {
		return out, err
	}
	conn, err := net.Dial("tcp", "cache.internal:6379")
	if err != nil {
		return out, err
	}
	return out, conn.Close()
}

// ClosureCall exercises a network call inside a closure that the job calls.
// expect: pure=false deterministic=false state=false eligible=true hosts=hooks.example.com
//
//blueprint:job
func ClosureCall(ctx context.Context, in In) (Out, error) {
	notify := func(body string) (Out, error) {
		return status(http.Post("https://hooks.example.com/notify", "text/plain", strings.NewReader(body)))
	}
	return notify(in.Body)
}

// searchURL is a constant, so the host is too.
const searchURL = "https://search.example.com/q?term="

// ConstantPrefix exercises a named constant URL prefix joined with the input.
// expect: pure=false deterministic=false state=false eligible=true hosts=search.example.com
//
//blueprint:job
func ConstantPrefix(ctx context.Context, in In) (Out, error) {
	return status(http.Get(searchURL + in.ID))
}

// GoroutineFetch exercises network calls made from goroutines joined with a WaitGroup.
// expect: pure=false deterministic=false state=false eligible=true hosts=api.example.com
//
//blueprint:job
func GoroutineFetch(ctx context.Context, in In) (Out, error) {
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := status(http.Get("https://api.example.com/v1/shard/" + in.ID)); err == nil {
				codes[i] = out.Status
			}
		}()
	}
	wg.Wait()
	return Out{Status: max(codes[0], codes[1])}, nil
}

// EnvURL exercises a URL read from the environment (host not a constant).
// expect: pure=false deterministic=false state=false eligible=true hosts=*
//
//blueprint:job
func EnvURL(ctx context.Context, in In) (Out, error) {
	return status(http.Get(os.Getenv("API_URL") + "/v1/" + in.ID))
}
