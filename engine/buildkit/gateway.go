package buildkit

import (
	"context"

	types "github.com/moby/buildkit/api/types"
	"github.com/moby/buildkit/client/buildid"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// gateway is BuildKit's frontend gateway (LLBBridge), through which buildx
// runs a build: Ping, then Solve with the "dockerfile.v0" frontend, then
// Return with the result. Each call names its build in its metadata.
type gateway struct {
	gwpb.UnimplementedLLBBridgeServer
	s *Server
}

func (g gateway) Ping(ctx context.Context, _ *gwpb.PingRequest) (*gwpb.PongResponse, error) {
	return &gwpb.PongResponse{FrontendAPICaps: gwpb.Caps.All(), LLBCaps: pb.Caps.All(), Workers: []*types.WorkerRecord{workerRecord()}}, nil
}

func (g gateway) Solve(ctx context.Context, req *gwpb.SolveRequest) (*gwpb.SolveResponse, error) {
	j, err := g.s.registeredJob(ctx, buildid.FromIncomingContext(ctx))
	if err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	if req.Definition != nil && len(req.Definition.Def) > 0 {
		return nil, status.Error(codes.Unimplemented, "Berth builds Dockerfiles, not LLB definitions: use the Dockerfile frontend (docker build)")
	}
	ref, err := g.s.solve(ctx, j, req.Frontend, req.FrontendOpt)
	if err != nil {
		return nil, toStatus(err)
	}
	return &gwpb.SolveResponse{Result: &gwpb.Result{Result: &gwpb.Result_Ref{Ref: &gwpb.Ref{Id: ref}}}}, nil
}

func (g gateway) Return(ctx context.Context, req *gwpb.ReturnRequest) (*gwpb.ReturnResponse, error) {
	j, err := g.s.registeredJob(ctx, buildid.FromIncomingContext(ctx))
	if err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	select {
	case j.returned <- req:
	default:
		return nil, status.Error(codes.AlreadyExists, "the build has returned already")
	}
	return &gwpb.ReturnResponse{}, nil
}

// Warn takes a frontend's warning; buildx's own come this way.
func (g gateway) Warn(ctx context.Context, req *gwpb.WarnRequest) (*gwpb.WarnResponse, error) {
	if j, err := g.s.registeredJob(ctx, buildid.FromIncomingContext(ctx)); err == nil {
		j.progress.send(controlWarning(req))
	}
	return &gwpb.WarnResponse{}, nil
}

// returnedRef is the result a Return hands back: one image (Berth builds
// one platform).
func returnedRef(ret *gwpb.ReturnRequest) string {
	if ret.Result == nil {
		return ""
	}
	switch r := ret.Result.Result.(type) {
	case *gwpb.Result_Ref:
		return r.Ref.GetId()
	case *gwpb.Result_RefDeprecated:
		return r.RefDeprecated
	case *gwpb.Result_Refs:
		for _, ref := range r.Refs.GetRefs() {
			return ref.GetId()
		}
	case *gwpb.Result_RefsDeprecated:
		for _, id := range r.RefsDeprecated.GetRefs() {
			return id
		}
	}
	return ""
}
