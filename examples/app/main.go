// Command app is a Go program that calls the quickstart's jobs as plain functions, through the
// wrappers `blueprint wrap` generated in ./quickstart. It runs the same code either way:
//
//	BLUEPRINT_AGENT=http://127.0.0.1:PORT app        # through the runtime agent
//	app --state terraform.tfstate                    # with the router embedded in this process
//
// It makes one call that runs here, a burst of calls of which the router offloads some
// (beyond --capacity in embedded mode, the agent's --capacity otherwise), one batch of inputs
// with a result each, one job error shown as the typed error it is, and one vote of the
// stateful tally job.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/examples/app/quickstart"
	"github.com/serverless-blueprint/blueprint/examples/terraform/quickstart/jobs"
	"github.com/serverless-blueprint/blueprint/sdk/go/jobcall"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

func run() error {
	state := flag.String("state", "", "run the router in this process, from this terraform.tfstate (or Pulumi stack export); default: call the agent named by BLUEPRINT_AGENT")
	capacity := flag.Int("capacity", 1, "embedded mode: jobs run in this process at once; beyond it, eligible jobs are offloaded")
	placement := flag.String("placement", "", "force every call of an eligible job to run here (local) or on a platform (serverless)")
	burst := flag.Int("burst", 16, "calls of top_words made at once, to show offloading under load")
	outputs := flag.String("outputs", "", "write the outputs of the deterministic calls to this file (JSON), to compare runs")
	testdata := flag.String("testdata", filepath.Join("examples", "terraform", "quickstart", "jobs", "testdata"), "the quickstart's sample inputs")
	flag.Parse()
	ctx := context.Background()

	if *state != "" {
		c, err := jobcall.Embed(ctx, jobcall.EmbedConfig{State: *state, Capacity: *capacity,
			Logger: hclog.New(&hclog.LoggerOptions{Name: "router", Level: hclog.Warn, Output: os.Stderr})})
		if err != nil {
			return err
		}
		defer c.Close()
		jobcall.SetDefault(c)
		fmt.Printf("router embedded in this process (state %s, capacity %d)\n", *state, *capacity)
	} else {
		fmt.Printf("calling jobs through the agent at %s\n", os.Getenv("BLUEPRINT_AGENT"))
	}
	var opts []jobcall.Option
	if *placement != "" {
		opts = append(opts, jobcall.WithPlacement(jobcall.Placement(*placement)))
	}
	var resizeIn jobs.ResizeRequest
	if err := readJSON(filepath.Join(*testdata, "resize_image", "256_to_64.json"), &resizeIn); err != nil {
		return err
	}
	var wordsIn jobs.WordsRequest
	if err := readJSON(filepath.Join(*testdata, "top_words", "dickens.json"), &wordsIn); err != nil {
		return err
	}
	record := map[string]any{}

	// 1. One call: the function's own types in and out.
	var ran jobcall.Ran
	resized, err := quickstart.ResizeImage(ctx, resizeIn, append(opts, jobcall.Where(&ran))...)
	if err != nil {
		return fmt.Errorf("resize_image: %w", err)
	}
	fmt.Printf("resize_image: %dx%d PNG of %d bytes, ran %s\n", resized.Width, resized.Height, len(resized.PNG), where(ran))
	record["resize_image"] = resized

	// 2. A burst: more calls at once than this machine takes; the router offloads the rest.
	var mu sync.Mutex
	placements := map[string]int{}
	var first []jobs.WordCount
	var firstErr error
	var wg sync.WaitGroup
	for i := 0; i < *burst; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ran jobcall.Ran
			top, err := quickstart.TopWords(ctx, wordsIn, append(opts, jobcall.Where(&ran))...)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				return
			}
			placements[where(ran)]++
			if first == nil {
				first = top
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("top_words: %w", firstErr)
	}
	fmt.Printf("top_words ×%d at once: %v; top word %q (%d)\n", *burst, placements, first[0].Word, first[0].Count)
	record["top_words"] = first

	// 3. Many inputs of one job in one call: a result per input, in order, each with its own
	// output or error (through the agent, one request).
	var sizes []jobs.ResizeRequest
	for _, side := range []int{16, 32, 0, 48} { // 0: that input alone fails
		in := resizeIn
		in.Width, in.Height = side, side
		sizes = append(sizes, in)
	}
	results, err := jobcall.CallBatch(ctx, jobs.ResizeImage, sizes, opts...)
	if err != nil {
		return fmt.Errorf("resize_image batch: %w", err)
	}
	batchPlacements := map[string]int{}
	var batch []string
	for i, r := range results {
		if r.Err != nil {
			var fe *jobcall.FunctionError
			if !errors.As(r.Err, &fe) {
				return fmt.Errorf("resize_image batch, input %d: %w", i, r.Err)
			}
			batch = append(batch, "error "+fe.Type)
			continue
		}
		batchPlacements[where(r.Ran)]++
		batch = append(batch, fmt.Sprintf("%dx%d", r.Output.Width, r.Output.Height))
	}
	fmt.Printf("resize_image ×%d as one batch: %v, ran %v\n", len(sizes), batch, batchPlacements)
	record["resize_image_batch"] = batch

	// 4. A job error arrives as the typed error it is.
	_, err = quickstart.ResizeImage(ctx, jobs.ResizeRequest{Width: 0, Height: 10}, opts...)
	var fe *jobcall.FunctionError
	if !errors.As(err, &fe) {
		return fmt.Errorf("resize_image with a bad size: want a *jobcall.FunctionError, got %v", err)
	}
	fmt.Printf("resize_image with a bad size: *jobcall.FunctionError{Job: %q, Type: %q, Message: %q}\n", fe.Job, fe.Type, fe.Message)
	record["resize_image_error"] = fe

	// 5. A stateful job: the vote lands in the store its deployment names, wherever it ran.
	count, err := quickstart.Tally(ctx, jobs.Vote{Counter: "app"}, append(opts, jobcall.Where(&ran))...)
	if err != nil {
		return fmt.Errorf("tally: %w", err)
	}
	fmt.Printf("tally: %d votes so far, ran %s\n", count.Votes, where(ran))

	if *outputs != "" {
		b, err := json.MarshalIndent(record, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(*outputs, append(b, '\n'), 0o644)
	}
	return nil
}

func where(r jobcall.Ran) string {
	if r.Target == "serverless" {
		return r.Platform + "/" + r.Region
	}
	return r.Target
}

func cmpErr(have, err error) error {
	if have != nil {
		return have
	}
	return err
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
