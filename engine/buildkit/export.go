package buildkit

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth"
	"github.com/moby/buildkit/session/filesync"
	"github.com/tonistiigi/fsutil"
)

// export sends a built image where each of the build's exporters says:
// the engine's store (where it is already, under its names), pushed to
// its registry with the client's credentials, or to the client as files
// (--output type=local), a filesystem tarball (tar), a docker-archive
// (docker) or an OCI layout (oci). It returns what the client is told.
func (s *Server) export(ctx context.Context, j *job, req *controlapi.SolveRequest, images []built) (map[string]string, error) {
	if len(images) > 1 {
		return s.exportPlatforms(ctx, j, req, images)
	}
	res, err := s.inlineCache(ctx, req, images[0].BuildResult)
	if err != nil {
		return nil, err
	}
	out := map[string]string{
		"containerimage.config.digest": res.ImageID,
		"containerimage.digest":        res.ImageID,
		"image.name":                   strings.Join(res.Tags, ","),
	}
	v := newVertices(j.progress, j.ref)
	clientSide := s.lazyCaller(ctx, req.Session)
	if err := s.exportCache(ctx, j, req, res, clientSide, out); err != nil {
		return nil, err
	}
	for i, e := range req.Exporters {
		key := "export " + strconv.Itoa(i)
		switch e.Type {
		case "moby", "image":
			if e.Attrs["push"] != "true" {
				continue
			}
			c, err := clientSide()
			if err != nil {
				return nil, err
			}
			err = pushTags(v, key, res.Tags, "", out, func(tag string, d string) (string, error) {
				return s.b.Push(ctx, tag, sessionAuth(ctx, c, tag), func(p engine.Progress) {
					if p.ID == "" && p.Message != "" {
						v.log(d, 1, p.Message+"\n")
					}
				})
			})
			if err != nil {
				return nil, err
			}
		case "local":
			err := v.run(key, "exporting the image's files to the client", func(d string) error {
				c, err := clientSide()
				if err != nil {
					return err
				}
				return s.b.Builder.WithImageRoot(ctx, res.ImageID, func(root string) error {
					files, err := fsutil.NewFS(root)
					if err != nil {
						return err
					}
					return filesync.CopyToCaller(ctx, files, i, c, nil)
				})
			})
			if err != nil {
				return nil, err
			}
		case "tar", "docker", "oci":
			err := v.run(key, "exporting to "+e.Type+" tarball", func(d string) error {
				c, err := clientSide()
				if err != nil {
					return err
				}
				return toClientFile(ctx, c, i, func(w io.Writer) error { return s.writeTarball(ctx, w, e.Type, res, namesOf(e, res)) })
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// exportPlatforms exports the images of a multi-platform build: pushed
// as one index (--push), or an OCI layout holding them (type=oci). The
// engine's store keeps one image per name, so they are not loaded there.
func (s *Server) exportPlatforms(ctx context.Context, j *job, req *controlapi.SolveRequest, images []built) (map[string]string, error) {
	byPlatform := map[string]string{}
	var keys []string
	for _, b := range images {
		byPlatform[b.platform] = b.ImageID
		keys = append(keys, b.CacheKeys...)
	}
	out := map[string]string{"image.name": strings.Join(tagsOf(req), ",")}
	v := newVertices(j.progress, j.ref)
	clientSide := s.lazyCaller(ctx, req.Session)
	if err := s.exportCache(ctx, j, req, engine.BuildResult{CacheKeys: keys}, clientSide, out); err != nil {
		return nil, err
	}
	caller, err := clientSide() // every multi-platform export is the client's
	if err != nil {
		return nil, err
	}
	for i, e := range req.Exporters {
		switch {
		case (e.Type == "moby" || e.Type == "image") && e.Attrs["push"] == "true":
			err := pushTags(v, "push index", tagsOf(req), fmt.Sprintf(" for %d platforms", len(images)), out, func(tag string, _ string) (string, error) {
				return s.b.PushIndex(ctx, tag, byPlatform, sessionAuth(ctx, caller, tag), nil)
			})
			if err != nil {
				return nil, err
			}
		case e.Type == "oci":
			err := v.run("export "+strconv.Itoa(i), "exporting to oci tarball", func(d string) error {
				return toClientFile(ctx, caller, i, func(w io.Writer) error { return s.writeOCIIndex(w, byPlatform, tagsOf(req)) })
			})
			if err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("an image for %d platforms cannot be kept under one name in Berth's engine: add --push (a multi-platform image in the registry), use --output type=oci, or build one --platform: %w", len(images), engine.ErrNotSupported)
		}
	}
	return out, nil
}

// writeOCIIndex writes an OCI layout of images by platform ("" : no
// platform given) to w, as a tar.
func (s *Server) writeOCIIndex(w io.Writer, images map[string]string, names []string) error {
	dir, err := os.MkdirTemp("", "berth-oci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	for platform, id := range images {
		img, err := s.b.Image(id)
		if err != nil {
			return err
		}
		var opts []layout.Option
		if platform != "" {
			pl, err := v1.ParsePlatform(platform)
			if err != nil {
				return err
			}
			opts = append(opts, layout.WithPlatform(*pl))
		}
		if len(names) > 0 {
			opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": names[0]}))
		}
		if err := p.AppendImage(img, opts...); err != nil {
			return fmt.Errorf("write the OCI layout: %w", err)
		}
	}
	return tarDir(dir, w)
}

// lazyCaller is the client's session, waited for only when an export
// needs it (the engine's store does not).
func (s *Server) lazyCaller(ctx context.Context, sessionID string) func() (session.Caller, error) {
	var caller session.Caller
	return func() (session.Caller, error) {
		if caller == nil {
			var err error
			if caller, err = s.sessions.Get(ctx, sessionID, false); err != nil {
				return nil, fmt.Errorf("the client's session: %w", err)
			}
		}
		return caller, nil
	}
}

// pushTags pushes under each tag, each as a step of its own, and tells
// the client the (last) digest.
func pushTags(v *vertices, key string, tags []string, what string, out map[string]string, push func(tag, vertex string) (string, error)) error {
	for _, tag := range tags {
		err := v.run(key+" "+tag, "pushing "+tag+what, func(d string) error {
			digest, err := push(tag, d)
			if err != nil {
				return err
			}
			out["containerimage.digest"] = digest
			v.log(d, 1, "pushed "+tag+"@"+digest+"\n")
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// toClientFile sends what write writes as the file exporter i sends to
// the client (--output type=tar|docker|oci,dest=…).
func toClientFile(ctx context.Context, c session.Caller, i int, write func(io.Writer) error) error {
	w, err := filesync.CopyFileWriter(ctx, nil, i, c)
	if err != nil {
		return err
	}
	err = write(w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// namesOf are the names an exporter gives the image: its own, else the
// build's tags, else its ID.
func namesOf(e *controlapi.Exporter, res engine.BuildResult) []string {
	names := exporterNames(e)
	if len(names) == 0 {
		names = res.Tags
	}
	if len(names) == 0 {
		names = []string{res.ImageID}
	}
	return names
}

// writeTarball writes the image as the format says: its filesystem (tar),
// docker save's archive (docker) or an OCI image layout (oci).
func (s *Server) writeTarball(ctx context.Context, w io.Writer, format string, res engine.BuildResult, names []string) error {
	switch format {
	case "tar":
		return s.b.Builder.WithImageRoot(ctx, res.ImageID, func(root string) error {
			files, err := fsutil.NewFS(root)
			if err != nil {
				return err
			}
			return fsutil.WriteTar(ctx, files, w)
		})
	case "docker":
		return s.b.Save(ctx, names, w)
	}
	if len(names) > 0 && names[0] == res.ImageID {
		names = nil // no name to annotate it with
	}
	return s.writeOCIIndex(w, map[string]string{"": res.ImageID}, names)
}

// tarDir writes the regular files and folders under dir to w as a tar.
func tarDir(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// sessionAuth asks the client (its docker login) for credentials for the
// registry ref lives in; none when it has none.
func sessionAuth(ctx context.Context, c session.Caller, ref string) *engine.AuthConfig {
	host := "registry-1.docker.io" // what BuildKit asks for Docker Hub
	if r, err := reference.Parse(ref); err == nil {
		if h := r.Context().RegistryStr(); h != "index.docker.io" && h != "docker.io" {
			host = h
		}
	}
	resp, err := auth.NewAuthClient(c.Conn()).Credentials(c.Context(ctx), &auth.CredentialsRequest{Host: host})
	if err != nil || (resp.Username == "" && resp.Secret == "") {
		return nil
	}
	if resp.Username == "" { // an identity token
		return &engine.AuthConfig{IdentityToken: resp.Secret, ServerAddress: host}
	}
	return &engine.AuthConfig{Username: resp.Username, Password: resp.Secret, ServerAddress: host}
}
