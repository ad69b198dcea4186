package api

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/berth-dev/berth/engine"
)

// docker export, top, diff and commit: looking into a container, and
// making an image or an archive of it.

// containerExport is docker export: the container's whole file system
// as a tar stream.
func (s *server) containerExport(w http.ResponseWriter, r *http.Request, id string) {
	if s.b.ContainerFiles == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine cannot export containers: %w", engine.ErrNotSupported))
		return
	}
	_, rc, err := s.b.ContainerFiles.ArchivePath(r.Context(), id, "/")
	if err != nil {
		writeEngineError(w, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	io.Copy(w, rc)
}

// containerTop is docker top: the container's processes. ps_args are not
// read (dockerd runs ps with them; Berth reads /proc itself).
func (s *server) containerTop(w http.ResponseWriter, r *http.Request, id string) {
	if s.b.ContainerInsight == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine cannot list a container's processes: %w", engine.ErrNotSupported))
		return
	}
	list, err := s.b.ContainerInsight.Top(r.Context(), id)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"Titles": list.Titles, "Processes": nonNil(list.Processes)})
}

// containerChanges is docker diff.
func (s *server) containerChanges(w http.ResponseWriter, r *http.Request, id string) {
	if s.b.ContainerInsight == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine cannot list a container's changes: %w", engine.ErrNotSupported))
		return
	}
	changes, err := s.b.ContainerInsight.Changes(r.Context(), id)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, nonNil(changes))
}

// commit is docker commit: an image of the container, named repo:tag.
// --change (Dockerfile instructions applied on the way) is refused in
// words rather than dropped.
func (s *server) commit(w http.ResponseWriter, r *http.Request) {
	if s.b.Committer == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine cannot commit containers: %w", engine.ErrNotSupported))
		return
	}
	q := r.URL.Query()
	if len(q["changes"]) > 0 && strings.Join(q["changes"], "") != "" {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("docker commit --change is not supported by Berth yet; commit, then build FROM the image with those instructions: %w", engine.ErrNotSupported))
		return
	}
	id, err := s.b.Committer.CommitContainer(r.Context(), q.Get("container"), engine.CommitOptions{Names: repoTag(q.Get("repo"), q.Get("tag")), Author: q.Get("author"), Comment: q.Get("comment")})
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"Id": id})
}
