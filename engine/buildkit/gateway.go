package buildkit

import (
	"context"
	"encoding/json"
	"maps"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
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
	if req.FrontendOpt["requestid"] == lintRequest { // docker build --check
		md, err := g.s.check(ctx, j, req.FrontendOpt)
		if err != nil {
			return nil, toStatus(err)
		}
		return &gwpb.SolveResponse{Result: &gwpb.Result{Metadata: md}}, nil
	}
	refs, err := g.s.solve(ctx, j, req.Frontend, req.FrontendOpt)
	if err != nil {
		return nil, toStatus(err)
	}
	if len(refs) == 1 {
		for _, ref := range refs {
			return &gwpb.SolveResponse{Result: &gwpb.Result{Result: &gwpb.Result_Ref{Ref: &gwpb.Ref{Id: ref}}}}, nil
		}
	}
	// Several platforms: a ref each, and the list BuildKit's exporters
	// read ("refs.platforms").
	res := &gwpb.Result{Metadata: map[string][]byte{}}
	m := &gwpb.RefMap{Refs: map[string]*gwpb.Ref{}}
	var list platformList
	for _, p := range slices.Sorted(maps.Keys(refs)) {
		m.Refs[p] = &gwpb.Ref{Id: refs[p]}
		pl, err := v1.ParsePlatform(p)
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		list.Platforms = append(list.Platforms, platformEntry{ID: p, Platform: *pl})
	}
	res.Result = &gwpb.Result_Refs{Refs: m}
	res.Metadata["refs.platforms"], _ = json.Marshal(list)
	return &gwpb.SolveResponse{Result: res}, nil
}

// platformList is BuildKit's "refs.platforms" metadata.
type platformList struct {
	Platforms []platformEntry
}

type platformEntry struct {
	ID       string
	Platform v1.Platform
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

// returnedRefs are the results a Return hands back: one ref, or one per
// platform.
func returnedRefs(ret *gwpb.ReturnRequest) []string {
	if ret.Result == nil {
		return nil
	}
	switch r := ret.Result.Result.(type) {
	case *gwpb.Result_Ref:
		return []string{r.Ref.GetId()}
	case *gwpb.Result_RefDeprecated:
		return []string{r.RefDeprecated}
	case *gwpb.Result_Refs:
		var ids []string
		for _, ref := range r.Refs.GetRefs() {
			ids = append(ids, ref.GetId())
		}
		return ids
	case *gwpb.Result_RefsDeprecated:
		return slices.Collect(maps.Values(r.RefsDeprecated.GetRefs()))
	}
	return nil
}
