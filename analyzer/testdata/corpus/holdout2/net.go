package holdout2

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout2/mw"
	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout2/rpc"
)

const jobsAPI = "https://api.retry.example.com/v1/jobs/"

// FetchWithBackoff exercises a retry loop with exponential backoff (time.Sleep) around http.Get
// of a constant prefix joined with the input.
// expect: pure=false deterministic=false state=false eligible=true hosts=api.retry.example.com
//
//blueprint:job
func FetchWithBackoff(ctx context.Context, in In) (Out, error) {
	backoff := 50 * time.Millisecond
	var lastErr error
	for attempt := 1; attempt <= 4; attempt++ {
		resp, err := http.Get(jobsAPI + url.PathEscape(in.ID))
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode < 500 {
				return Out{Text: string(body), Count: attempt}, nil
			}
			lastErr = fmt.Errorf("attempt %d: status %d", attempt, resp.StatusCode)
		} else {
			lastErr = err
		}
		time.Sleep(backoff)
		backoff *= 2
	}
	return Out{}, fmt.Errorf("giving up after 4 attempts: %w", lastErr)
}

// limiter spaces calls at least interval apart, process-wide.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	last     time.Time
}

func (l *limiter) wait() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := l.interval - time.Since(l.last); d > 0 {
		time.Sleep(d)
	}
	l.last = time.Now()
}

var quotesLimiter = &limiter{interval: 200 * time.Millisecond}

// QuoteLimited exercises a package-level rate limiter (its last-call time is written per call)
// in front of http.Get of a constant URL.
// expect: pure=false deterministic=false state=true eligible=false hosts=quotes.example.com
//
//blueprint:job
func QuoteLimited(ctx context.Context, in In) (Out, error) {
	quotesLimiter.wait()
	resp, err := http.Get("https://quotes.example.com/v1/quote?symbol=" + url.QueryEscape(in.ID))
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	return Out{Count: resp.StatusCode}, nil
}

// SubmitForm exercises http.PostForm to a constant URL.
// expect: pure=false deterministic=false state=false eligible=true hosts=forms.example.com
//
//blueprint:job
func SubmitForm(ctx context.Context, in In) (Out, error) {
	resp, err := http.PostForm("https://forms.example.com/submit", url.Values{
		"id":    {in.ID},
		"text":  {in.Text},
		"count": {strconv.Itoa(len(in.Items))},
	})
	if err != nil {
		return Out{}, fmt.Errorf("submit form: %w", err)
	}
	defer resp.Body.Close()
	return Out{Count: resp.StatusCode}, nil
}

// ResolveRegional exercises net.LookupIP of a host computed from the input region.
// expect: pure=false deterministic=false state=false eligible=true hosts=*
//
//blueprint:job
func ResolveRegional(ctx context.Context, in In) (Out, error) {
	ips, err := net.LookupIP(in.Region + ".db.example.com")
	if err != nil {
		return Out{}, err
	}
	out := Out{}
	for _, ip := range ips {
		out.Lines = append(out.Lines, ip.String())
	}
	return out, nil
}

// InventoryReady exercises a gRPC client created in a helper package (rpc) with a constant target.
// expect: pure=false deterministic=false state=false eligible=true hosts=inventory.internal
//
//blueprint:job
func InventoryReady(ctx context.Context, in In) (Out, error) {
	state, err := rpc.Ready(ctx)
	return Out{Text: state}, err
}

// AuthChain exercises a middleware layer (mw.RequireToken) that calls a constant verify URL
// passed in by the job.
// expect: pure=false deterministic=false state=false eligible=true hosts=auth.example.com
//
//blueprint:job
func AuthChain(ctx context.Context, in In) (Out, error) {
	h := mw.Chain(reverseWords, mw.RequireToken("https://auth.example.com/v1/verify", in.Token), mw.Trim())
	s, err := h(in.Text)
	return Out{Text: s}, err
}

// Heartbeat exercises a request to a constant host carrying os.Hostname in a header.
// expect: pure=false deterministic=false state=false eligible=true hosts=telemetry.example.com
//
//blueprint:job
func Heartbeat(ctx context.Context, in In) (Out, error) {
	host, _ := os.Hostname()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://telemetry.example.com/v1/beat", nil)
	if err != nil {
		return Out{}, err
	}
	req.Header.Set("X-Host", host)
	req.Header.Set("X-Job", in.ID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	return Out{Count: resp.StatusCode}, nil
}

// RegionFanOut exercises goroutines fetching one URL per input region (hosts computed from the
// input), each into its own slot.
// expect: pure=false deterministic=false state=false eligible=true hosts=*
//
//blueprint:job
func RegionFanOut(ctx context.Context, in In) (Out, error) {
	urls := make([]string, len(in.Regions))
	for i, r := range in.Regions {
		urls[i] = "https://" + r + ".cdn.example.com/health"
	}
	codes := make([]string, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				codes[i] = err.Error()
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes[i] = "unreachable"
				return
			}
			resp.Body.Close()
			codes[i] = strconv.Itoa(resp.StatusCode)
		}()
	}
	wg.Wait()
	return Out{Lines: codes}, nil
}
