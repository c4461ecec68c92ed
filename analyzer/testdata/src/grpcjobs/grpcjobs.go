// Package grpcjobs dials gRPC targets: the host comes from a constant target, a unix: target
// is a socket that only exists on the VM.
package grpcjobs

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

//blueprint:job
func Orders(ctx context.Context, id string) (string, error) {
	conn, err := grpc.NewClient("dns:///orders.internal:443", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var out string
	err = conn.Invoke(ctx, "/orders.Orders/Get", id, &out)
	return out, err
}

//blueprint:job
func Local(ctx context.Context, id string) (string, error) {
	conn, err := grpc.NewClient("unix:///run/agent.sock", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return "", err
	}
	return id, conn.Close()
}
