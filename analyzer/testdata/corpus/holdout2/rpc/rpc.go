// Package rpc creates the gRPC client of the inventory service for the holdout2 corpus jobs;
// the target is a constant of this package.
package rpc

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const target = "inventory.internal:50051"

// Dial creates a client of the inventory service.
func Dial() (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("inventory client: %w", err)
	}
	return conn, nil
}

// Ready connects to the inventory service and reports the connection state once it changed.
func Ready(ctx context.Context) (string, error) {
	conn, err := Dial()
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.Connect()
	conn.WaitForStateChange(ctx, conn.GetState())
	return conn.GetState().String(), nil
}
