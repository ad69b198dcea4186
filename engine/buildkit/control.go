package buildkit

import (
	"context"
	"maps"
	"runtime"
	"slices"
	"strings"

	controlapi "github.com/moby/buildkit/api/services/control"
	types "github.com/moby/buildkit/api/types"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// control is BuildKit's Control service.
type control struct {
	controlapi.UnimplementedControlServer
	s *Server
}

// workerRecord is Berth's one worker: this machine's platform (others it
// builds for under emulation).
func workerRecord() *types.WorkerRecord {
	return &types.WorkerRecord{
		ID: "berth",
		// A snapshotter label tells buildx the engine's store takes what
		// a containerd image store does: --output type=docker|oci, --push.
		Labels:    map[string]string{"org.mobyproject.buildkit.worker.executor": "berth", "org.mobyproject.buildkit.worker.snapshotter": "overlayfs"},
		Platforms: []*pb.Platform{{OS: "linux", Architecture: runtime.GOARCH}},
	}
}

func (c control) ListWorkers(context.Context, *controlapi.ListWorkersRequest) (*controlapi.ListWorkersResponse, error) {
	return &controlapi.ListWorkersResponse{Record: []*types.WorkerRecord{workerRecord()}}, nil
}

func (c control) Info(context.Context, *controlapi.InfoRequest) (*controlapi.InfoResponse, error) {
	return &controlapi.InfoResponse{BuildkitVersion: &types.BuildkitVersion{Package: "github.com/berth-dev/berth", Version: c.s.version}}, nil
}

// Solve is one build. buildx runs the Dockerfile frontend through the
// gateway (Frontend empty): the build happens in the gateway's Solve, and
// this call waits for the gateway's Return. Older clients and buildctl
// name the frontend here; then the build happens here.
func (c control) Solve(ctx context.Context, req *controlapi.SolveRequest) (*controlapi.SolveResponse, error) {
	j := c.s.jobFor(req.Ref)
	j.mu.Lock()
	if j.solve != nil {
		j.mu.Unlock()
		return nil, status.Errorf(codes.AlreadyExists, "build %s is already under way", req.Ref)
	}
	j.solve = req
	j.mu.Unlock()
	close(j.registered)
	defer c.s.finish(j)
	if err := checkExporters(req); err != nil {
		return nil, err
	}
	if err := checkCache(req); err != nil {
		return nil, err
	}

	var resultRefs []string
	if req.Frontend != "" {
		refs, err := c.s.solve(ctx, j, req.Frontend, req.FrontendAttrs)
		if err != nil {
			return nil, toStatus(err)
		}
		resultRefs = slices.Collect(maps.Values(refs))
	} else {
		select {
		case ret := <-j.returned:
			if ret.Error != nil {
				return nil, status.ErrorProto(ret.Error)
			}
			resultRefs = returnedRefs(ret)
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	var images []built
	j.mu.Lock()
	for _, ref := range resultRefs {
		if b, ok := j.images[ref]; ok {
			images = append(images, b)
		}
	}
	j.mu.Unlock()
	if len(images) == 0 {
		return &controlapi.SolveResponse{ExporterResponse: map[string]string{}}, nil // nothing built (buildx's checks, --call)
	}
	out, err := c.s.export(ctx, j, req, images)
	if err != nil {
		return nil, toStatus(err)
	}
	return &controlapi.SolveResponse{ExporterResponse: out}, nil
}

// checkExporters refuses, before any work, outputs Berth does not make:
// see export for those it does.
func checkExporters(req *controlapi.SolveRequest) error {
	for _, e := range req.Exporters {
		switch e.Type {
		case "moby", "image", "local", "tar", "docker", "oci":
			if e.Attrs["push-by-digest"] == "true" {
				return status.Errorf(codes.Unimplemented, "Berth's builder does not push by digest alone yet: give the image a name (-t)")
			}
		default:
			return status.Errorf(codes.Unimplemented, "Berth's builder cannot export --output type=%s; it exports to the engine's images, local, tar, docker and oci", e.Type)
		}
	}
	return nil
}

// tagsOf are the image names the exporters give the build.
func tagsOf(req *controlapi.SolveRequest) []string {
	var tags []string
	for _, e := range req.Exporters {
		tags = append(tags, exporterNames(e)...)
	}
	return tags
}

// exporterNames are the names one exporter gives the image (its
// comma-separated name attribute).
func exporterNames(e *controlapi.Exporter) []string {
	var names []string
	for n := range strings.SplitSeq(e.Attrs["name"], ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// DiskUsage is docker buildx du: the build cache's entries that hold
// layers.
func (c control) DiskUsage(context.Context, *controlapi.DiskUsageRequest) (*controlapi.DiskUsageResponse, error) {
	var out controlapi.DiskUsageResponse
	for _, u := range c.s.b.Builder.CacheUsage() {
		out.Record = append(out.Record, &controlapi.UsageRecord{ID: u.ID, InUse: u.InUse, Size: u.Size, LastUsedAt: timestamppb.New(u.LastUsed),
			Description: u.Description, RecordType: "regular", Shared: u.InUse})
	}
	return &out, nil
}

// Prune is docker buildx prune: every cached step goes (Berth's cache
// keeps no per-entry age or filter), and each one reported.
func (c control) Prune(req *controlapi.PruneRequest, stream grpc.ServerStreamingServer[controlapi.UsageRecord]) error {
	before := map[string]int64{}
	for _, u := range c.s.b.Builder.CacheUsage() {
		before[u.ID] = u.Size
	}
	report, err := c.s.b.Builder.PruneCache(stream.Context(), req.All)
	if err != nil {
		return toStatus(err)
	}
	for _, id := range report.Deleted {
		rec := &controlapi.UsageRecord{ID: id, RecordType: "regular"}
		for full, size := range before {
			if strings.HasPrefix(full, id) {
				rec.Size = size
			}
		}
		if err := stream.Send(rec); err != nil {
			return err
		}
	}
	return nil
}

func (c control) Status(req *controlapi.StatusRequest, stream grpc.ServerStreamingServer[controlapi.StatusResponse]) error {
	j := c.s.jobFor(req.Ref)
	return j.progress.stream(stream.Context(), stream.Send)
}

// toStatus keeps an error's message for the client.
func toStatus(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Unknown, err.Error())
}
